"""Business calendars: opening hours, Swedish holidays and eves, office-time arithmetic."""
