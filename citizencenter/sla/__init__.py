"""Service-level rules: business calendars, deadlines and staffing maths."""
