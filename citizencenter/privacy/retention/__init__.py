"""Retention (gallring): rules per category and channel, legal holds, the plan and the run."""
