"""Feedback: call-backs, ratings (好差评) and reply quality (`reply_quality`)."""
