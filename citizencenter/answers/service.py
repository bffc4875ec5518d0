"""Answer templates: kept by supervisors, read by guides, filled for a case and sent."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import User
from citizencenter.accounts.service import Principal
from citizencenter.answers import filling, hours
from citizencenter.answers.models import AnswerTemplate
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Direction
from citizencenter.cases.models import Case, Message
from citizencenter.errors import AppError, InvalidInput, NotFound
from citizencenter.knowledge.models import Article, Audience
from citizencenter.organisation.models import Category
from citizencenter.organisation.service import by_slug
from citizencenter.pagination import Page, Paginator
from citizencenter.privacy import detection
from citizencenter.sla.permissions import require_manager

# Where a reply records the template it was sent with (cases.schemas reserves the key).
METADATA_KEY = "answer_template"


class TemplateExists(AppError):
    status, title, slug = 409, "Answer template exists", "answer-template-exists"


class TemplateNotForCase(AppError):
    status, title, slug = 422, "Answer template not for this case", "answer-template-not-for-case"


def _snapshot(template: AnswerTemplate) -> dict:
    return {"name": template.name, "body": template.body, "active": template.active,
            "channel": template.channel,
            "category": template.category.slug if template.category else None}


def _apply(session: Session, template: AnswerTemplate, data: dict) -> None:
    if "body" in data:
        filling.check(data["body"])
        if detection.find(data["body"]):
            raise InvalidInput("body", "Holds a personnummer; a template never does.")
        _quotes(session, data["body"], lambda problem: InvalidInput("body", problem))
    if "name" in data and data["name"] != template.name and session.scalar(
            select(AnswerTemplate.id).where(AnswerTemplate.name == data["name"])):
        raise TemplateExists(f"A template named {data['name']!r} exists.")
    for name in ("name", "body", "channel", "active"):
        if name in data:
            setattr(template, name, data[name])
    if "category" in data:
        template.category = by_slug(session, Category, data["category"], "category")


def create_template(session: Session, actor: Principal, data: dict) -> AnswerTemplate:
    """Add an answer template (supervisors and admins)."""
    require_manager(actor)
    template = AnswerTemplate(created_by=actor.actor, active=True)
    _apply(session, template, data)
    session.add(template)
    session.flush()
    audit.record(session, actor.actor, "answer_template.created", "answer_template",
                 template.id, new=_snapshot(template))
    session.commit()
    return template


def change_template(session: Session, actor: Principal, template_id: int,
                    changes: dict) -> AnswerTemplate:
    """Change an answer template (supervisors and admins)."""
    require_manager(actor)
    template = get_template(session, template_id)
    before = _snapshot(template)
    _apply(session, template, changes)
    audit.record_changes(session, actor.actor, "answer_template.changed", "answer_template",
                         template.id, before, _snapshot(template))
    session.commit()
    return template


def delete_template(session: Session, actor: Principal, template_id: int) -> None:
    """Delete an answer template; replies sent with it keep its id and name."""
    require_manager(actor)
    template = get_template(session, template_id)
    audit.record(session, actor.actor, "answer_template.deleted", "answer_template",
                 template.id, old=_snapshot(template))
    session.delete(template)
    session.commit()


def get_template(session: Session, template_id: int) -> AnswerTemplate:
    template = session.get(AnswerTemplate, template_id)
    if template is None:
        raise NotFound("No such answer template.")
    return template


def list_templates(session: Session, paginator: Paginator, *, limit: int | None = None,
                   cursor: str | None = None, channel=None, category: str | None = None,
                   active: bool | None = None) -> Page:
    """Page through answer templates by name; a channel or category also matches "any"."""
    query = select(AnswerTemplate)
    if channel is not None:
        query = query.where((AnswerTemplate.channel == channel)
                            | AnswerTemplate.channel.is_(None))
    if category is not None:
        row = by_slug(session, Category, category, "category")
        query = query.where((AnswerTemplate.category_id == row.id)
                            | AnswerTemplate.category_id.is_(None))
    if active is not None:
        query = query.where(AnswerTemplate.active.is_(active))
    return paginator.page(session, query, (AnswerTemplate.name,),
                          to_key=lambda t: [t.name], from_key=lambda k: (str(k[0]),),
                          filters={"list": "answer_templates", "channel": channel,
                                   "category": category, "active": active},
                          limit=limit, cursor=cursor, descending=False)


def templates_for(session: Session, case: Case) -> list[AnswerTemplate]:
    """The active templates that fit a case's channel and category, by name."""
    query = select(AnswerTemplate).where(
        AnswerTemplate.active.is_(True),
        (AnswerTemplate.channel == case.channel) | AnswerTemplate.channel.is_(None),
        (AnswerTemplate.category_id == case.category_id) | AnswerTemplate.category_id.is_(None))
    return list(session.scalars(query.order_by(AnswerTemplate.name)))


def _usable(template: AnswerTemplate, case: Case) -> None:
    if not template.active:
        raise TemplateNotForCase("The template is not active.")
    if template.channel is not None and template.channel != case.channel:
        raise TemplateNotForCase(f"The template is for the {template.channel} channel.")
    if template.category_id is not None and template.category_id != case.category_id:
        raise TemplateNotForCase(f"The template is for the category "
                                 f"{template.category.slug!r}.")


def _values(session: Session, actor: Principal, case: Case) -> dict[str, str]:
    guide = session.get(User, actor.user_id) if actor.user_id else None
    guide = guide or case.assignee
    values = {"citizen_name": (case.contact.name if case.contact else None) or "",
              "reference": case.reference, "guide_name": guide.name if guide else "",
              "opening_hours": hours.opening_hours_text(session, case)}
    # A personnummer never goes out in clear, whatever a name field was given.
    return {name: detection.mask(value)[0] for name, value in values.items()}


def _quotes(session: Session, body: str, error) -> dict[int, str]:
    """The text of each article the template quotes. Only public articles: the reply goes
    to the citizen, and an internal one is written for the guides alone."""
    quotes = {}
    for article_id in filling.article_ids(body):
        article = session.get(Article, article_id)
        if article is None:
            raise error(f"article({article_id}): no such knowledge article.")
        if article.audience != Audience.PUBLIC:
            raise error(f"article({article_id}) is for the guides only (internal); a reply "
                        f"quotes public articles.")
        quotes[article_id] = f"{article.title}\n\n{article.body.strip()}"
    return quotes


def _writes_to(case: Case) -> None:
    if case.content_hidden:
        raise confidentiality.ConfidentialContent("Replies on a confidential case are "
                                                  "written by those who may read it.")


def filled_text(session: Session, actor: Principal, case: Case,
                template: AnswerTemplate) -> str:
    """The template filled for a case the caller is working on (nothing written)."""
    _usable(template, case)
    return filling.fill(template.body, _values(session, actor, case),
                        _quotes(session, template.body, TemplateNotForCase))


def preview(session: Session, actor: Principal, case_id: uuid.UUID,
            template_id: int) -> dict:
    """The text a template gives for a case; the case's access rules apply, and the view
    is audited like any other showing of the case."""
    case = cases_service.shown_case(session, actor, case_id, "answer_template_preview",
                                    template_id=template_id)
    _writes_to(case)
    template = get_template(session, template_id)
    text = filled_text(session, actor, case, template)
    session.commit()
    return {"template_id": template.id, "name": template.name, "body": text}


def reply_with_template(session: Session, actor: Principal, case_id: uuid.UUID,
                        template_id: int, body: str | None = None) -> Message:
    """Send a reply answered with a template: its filled text, or the guide's edit of it.
    The message records which template answered the case."""
    case = cases_service.get_case(session, actor, case_id)
    _writes_to(case)
    template = get_template(session, template_id)
    text = body if body is not None else filled_text(session, actor, case, template)
    _usable(template, case)
    return cases_service.add_message(
        session, actor, case_id, direction=Direction.OUTBOUND, body=text,
        channel_metadata={METADATA_KEY: {"id": template.id, "name": template.name}})


def reply_metadata(session: Session, case: Case, template_id: int) -> dict:
    """What a reply sent with a template records of it (the case page's reply)."""
    template = get_template(session, template_id)
    _usable(template, case)
    return {METADATA_KEY: {"id": template.id, "name": template.name}}
