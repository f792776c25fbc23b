"""Calendar feeds (iCalendar) that staff subscribe to."""
