"""AI游衡阳: the culture and tourism entry — places, timed tickets, check-in, map, guides, complaints.

A domain on the top domain floor: it reads the directory and the calendar, files complaints through the
orders intake, and searches with the knowledge base's BM25 index. Nothing below imports it.
"""
