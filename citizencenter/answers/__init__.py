"""Answer templates (svarsmallar): replies a guide fills for a case and sends in one step."""
