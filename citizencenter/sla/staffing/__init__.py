"""Staffing help: Erlang C from the call history."""
