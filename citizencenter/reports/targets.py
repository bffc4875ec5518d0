"""Targets of the service measurement: defaults, overrides from the configuration,
and which way each figure is better."""

# "channel.figure" or "*.figure" (every channel and overall) -> target value.
DEFAULT_TARGETS: dict[str, float | None] = {
    "phone.service_level_120": 0.80,
    "phone.service_level_60": 0.70,
    "phone.direct_answer_rate": 0.60,
    "phone.asa_seconds": 60,
    "phone.abandon_rate": 0.10,
    "phone.transfer_rate": 0.20,
    "email.answered_within_24h": 0.90,
    "email.answered_within_1_working_day": 0.90,
    "email.answered_within_2_working_days": 0.98,
    "email.mean_response_office_hours": 8,
    "webform.answered_within_24h": 0.90,
    "webform.answered_within_1_working_day": 0.90,
    "webform.answered_within_2_working_days": 0.98,
    "webform.mean_response_office_hours": 8,
    "social.answered_within_24h": 0.90,
    "social.mean_response_office_hours": 4,
    "*.first_contact_resolution": 0.70,
    "*.first_contact_resolution_repeat": 0.80,
    "*.handled_by_guides": 0.70,
    "*.courtesy_skr_index": 75,
    "*.courtesy_kkik_percent": 85,
    "department.mean_resolution_hours": 120,
}
LOWER_IS_BETTER = frozenset({
    "asa_seconds", "abandon_rate", "transfer_rate", "aht_seconds", "mean_response_hours",
    "mean_response_office_hours", "forwarded_to_departments", "mean_resolution_hours",
    "longest_wait_seconds",
})


def parse_overrides(text: str) -> dict[str, float | None]:
    """Read "phone.asa_seconds=45,*.courtesy_skr_index=none" into a dict."""
    out: dict[str, float | None] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"REPORT_TARGETS: {item!r} is not channel.figure=value")
        out[key.strip()] = None if value.strip().lower() == "none" else float(value)
    return out


class Targets:
    def __init__(self, overrides: str = ""):
        self.values = {**DEFAULT_TARGETS, **parse_overrides(overrides)}

    def target(self, channel: str, figure: str) -> float | None:
        return self.values.get(f"{channel}.{figure}", self.values.get(f"*.{figure}"))

    @staticmethod
    def comparison(figure: str) -> str:
        return "<=" if figure in LOWER_IS_BETTER else ">="

    def met(self, figure: str, value, target) -> bool | None:
        if value is None or target is None:
            return None
        return value <= target if figure in LOWER_IS_BETTER else value >= target
