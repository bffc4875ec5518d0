"""Report parameters from the application configuration (shared with the beat task)."""

from citizencenter.reports.facts import Definitions
from citizencenter.reports.service_measurement import ReportSettings
from citizencenter.reports.targets import Targets


def definitions(config) -> Definitions:
    thresholds = sorted(set(config["PHONE_SERVICE_LEVEL_THRESHOLDS_S"]))
    return Definitions(
        short_abandon_s=config["PHONE_SHORT_ABANDON_S"],
        threshold_t1_s=thresholds[0], threshold_t2_s=thresholds[-1],
        direct_answer_s=config["PHONE_DIRECT_ANSWER_S"],
        answer_within_hours=config["EMAIL_ANSWER_WITHIN_HOURS"],
        repeat_days=config["REPEAT_CONTACT_DAYS"])


def report_settings(config) -> ReportSettings:
    return ReportSettings(definitions=definitions(config),
                          formula=config["PHONE_SERVICE_LEVEL_FORMULA"],
                          targets=Targets(config["REPORT_TARGETS"]),
                          comparable_n=config["COURTESY_COMPARABLE_N"])
