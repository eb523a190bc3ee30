"""Calendar feeds: every running deadline of some partnerships as an iCalendar feed that
Outlook (or any calendar) subscribes to by URL, since a calendar cannot send a key."""
