"""Time limits (时限) on top of the working-day calendar: SLA rules per appeal type × urgency, the
deadlines they give, their colours, and the official holiday schedules admins load."""
