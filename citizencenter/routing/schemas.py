import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import Channel, Priority
from citizencenter.cases.schemas import CaseSchema
from citizencenter.channels.phone.schemas import CallerNumber
from citizencenter.pagination import page_schema
from citizencenter.routing.models import Presence

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use HH:MM (00:00–23:59).")


def slug_field() -> fields.String:
    return checked.slug()


def language_field() -> fields.String:
    return checked.Token(validate=validate.Regexp(r"^[a-z]{2,3}$",
                                                  error="Use an ISO 639 code such as sv."))


def _list(field, max_items: int = 50, **kwargs):
    return fields.List(field, validate=validate.Length(min=1, max=max_items), **kwargs)


HoursSchema = ma.Schema.from_dict({
    "from": checked.Token(validate=HHMM), "to": checked.Token(validate=HHMM),
    "weekdays": _list(fields.Integer(validate=validate.Range(min=1, max=7)), 7,
                      metadata={"description": "1 = Monday … 7 = Sunday"}),
}, name="RuleHours")


class ContactConditionSchema(ma.Schema):
    known = checked.Flag()
    has_email = checked.Flag()
    has_phone = checked.Flag()
    min_open_cases = fields.Integer(validate=validate.Range(min=1, max=1000))
    email_domains = _list(checked.Token(validate=validate.Length(min=1, max=253)))


class RuleConditionsSchema(ma.Schema):
    channels = _list(fields.Enum(Channel, by_value=True))
    categories = _list(slug_field())
    languages = _list(language_field())
    service_codes = _list(checked.Token(validate=validate.Length(min=1, max=64)), metadata={
        "description": "Open311 service codes of the case's category; any one matches."})
    keywords = _list(checked.SingleLine(validate=validate.Length(min=1, max=100)), 200,
                     metadata={"description": "Words or phrases; any one matches, "
                               "case, accents and Swedish word endings aside."})
    contact = fields.Nested(ContactConditionSchema)
    hours = fields.Nested(HoursSchema, metadata={"description": "Europe/Stockholm time"})


class RequiredSkillsSchema(ma.Schema):
    categories = fields.List(slug_field(), validate=validate.Length(max=20))
    languages = fields.List(language_field(), validate=validate.Length(max=10))


class RuleActionsSchema(ma.Schema):
    queue = slug_field()
    department = slug_field()
    priority = fields.Enum(Priority, by_value=True)
    required_skills = fields.Nested(RequiredSkillsSchema)

    class Meta:
        # rules.py checks it against the known queues and departments too.
        json_schema = {"oneOf": [{"required": ["queue"]}, {"required": ["department"]}],
                       "description": "Exactly one of queue and department."}


class RuleInSchema(ma.Schema):
    name = checked.SingleLine(required=True, validate=validate.Length(min=1, max=200))
    position = fields.Integer(required=True, validate=validate.Range(min=0, max=100_000))
    conditions = fields.Nested(RuleConditionsSchema, load_default=dict)
    actions = fields.Nested(RuleActionsSchema, required=True)


class RuleSchema(ma.Schema):
    id = fields.Integer(attribute="rule_id")
    version = fields.Integer()
    version_id = fields.Integer(attribute="id")
    name = fields.String()
    position = fields.Integer()
    conditions = fields.Dict()
    actions = fields.Dict()
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class MoveSchema(ma.Schema):
    direction = fields.String(required=True, validate=validate.OneOf(["up", "down"]))


class DryRunInSchema(ma.Schema):
    subject = checked.SingleLine(required=True, validate=validate.Length(min=1, max=500))
    channel = fields.Enum(Channel, by_value=True, required=True)
    sender = checked.SingleLine(load_default=None, allow_none=True,
                                validate=validate.Length(max=254),
                                metadata={"description": "E-mail address or phone number"})
    body = checked.Text(load_default="", validate=validate.Length(max=100_000))


class DryRunSchema(ma.Schema):
    rule = fields.Nested(RuleSchema, allow_none=True,
                         metadata={"description": "The rule that wins; null: none matches"})
    reason = fields.String(metadata={"description": "rule or channel_default"})
    matched = fields.List(fields.Dict(), metadata={
        "description": "The winning rule's conditions with what the case showed for each"})
    queue = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    language = fields.String()
    required_skills = fields.Dict()


class SkillsSchema(ma.Schema):
    categories = fields.List(slug_field(), load_default=list, validate=validate.Length(max=100))
    languages = fields.List(language_field(), load_default=list, validate=validate.Length(max=20))
    channels = fields.List(fields.Enum(Channel, by_value=True), load_default=list)


class GuideUpdateSchema(checked.ChangeSchema):
    skills = fields.Nested(SkillsSchema)
    capacities = fields.Dict(keys=fields.Enum(Channel, by_value=True),
                             values=fields.Integer(validate=validate.Range(min=0, max=50)))
    queues = fields.List(slug_field(), validate=validate.Length(max=50))
    service_point = checked.slug(allow_none=True)



class GuideSchema(ma.Schema):
    user_id = fields.Integer()
    name = fields.String()
    presence = fields.Enum(Presence, by_value=True)
    presence_changed_at = fields.AwareDateTime()
    idle_since = fields.AwareDateTime()
    last_assignment_at = fields.AwareDateTime(allow_none=True)
    skills = fields.Dict()
    capacities = fields.Dict()
    load = fields.Dict(metadata={"description": "Open cases per channel"})
    queues = fields.List(fields.String())
    service_point = fields.String(allow_none=True)


class PresenceSchema(ma.Schema):
    presence = fields.Enum(Presence, by_value=True, required=True)


class QueuePolicyInSchema(ma.Schema):
    timeout_s = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=30 * 86400))
    overflow_queue = checked.slug(allow_none=True)
    raise_priority = checked.Flag(load_default=False)


class QueuePolicySchema(QueuePolicyInSchema):
    queue = fields.String()


class ChannelDefaultInSchema(ma.Schema):
    queue = checked.slug(required=True)


class ChannelDefaultSchema(ma.Schema):
    channel = fields.String()
    queue = fields.String(allow_none=True, metadata={"description": "null: the channel has none"})


class ForwardSchema(ma.Schema):
    department = checked.slug(required=True)
    note = checked.Text(validate=validate.Length(min=1, max=10_000))


class SendBackSchema(ma.Schema):
    note = checked.Text(validate=validate.Length(min=1, max=10_000))


class ForwardingSchema(ma.Schema):
    id = fields.Integer()
    case_id = fields.UUID()
    department = fields.Function(lambda row: row.department.slug, metadata={"type": "string"})
    forwarded_at = fields.AwareDateTime()
    department_due_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the department-resolution SLA clock is due (null: no policy)"})


class DecisionSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    rule_version_id = fields.Integer(allow_none=True)
    queue_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    chosen_user_id = fields.Integer(allow_none=True)
    candidates = fields.List(fields.Dict())
    details = fields.Dict()
    decided_at = fields.AwareDateTime()
    actor = fields.String()


class DecideInSchema(ma.Schema):
    caller = CallerNumber(allow_none=True, load_default=None)
    queue = checked.slug(required=True)


class DecideSchema(ma.Schema):
    agent = fields.String(allow_none=True, metadata={"description": "PBX agent id, or null"})
    user_id = fields.Integer(allow_none=True)
    reason = fields.String(metadata={"description": "sticky, longest_idle or none_available"})


class ClaimSchema(ma.Schema):
    case = fields.Nested(CaseSchema, allow_none=True)


class HandBackSchema(ma.Schema):
    handed_back = fields.Integer(metadata={"description": "Cases put back in their queues"})
    guide = fields.Nested(GuideSchema)


RulePageSchema = page_schema(RuleSchema, "RoutingRulePage")
GuidePageSchema = page_schema(GuideSchema, "GuidePage")
QueuePolicyPageSchema = page_schema(QueuePolicySchema, "QueuePolicyPage")
ChannelDefaultPageSchema = page_schema(ChannelDefaultSchema, "ChannelDefaultPage")
DecisionPageSchema = page_schema(DecisionSchema, "RoutingDecisionPage")
