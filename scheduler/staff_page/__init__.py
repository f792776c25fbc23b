"""The staff member's outcome page of one appointment, linked from their calendar feed."""
