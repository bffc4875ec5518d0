"""Demo data for the embedded run: Lund's channels, service points, departments and guides."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts import passwords
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import Department
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.organisation.models import Category, ChannelDefaultQueue, Queue, ServicePoint
from citizencenter.routing import demo as routing_demo
from citizencenter.sla import defaults as sla_defaults

DEPARTMENTS = [
    ("stadsbyggnad", "Stadsbyggnadskontoret", "stadsbyggnad@lund.example"),
    ("utbildning", "Utbildningsförvaltningen", "utbildning@lund.example"),
    ("tekniska", "Tekniska förvaltningen", "tekniska@lund.example"),
    ("socialforvaltningen", "Socialförvaltningen", "social@lund.example"),
    ("miljo", "Miljöförvaltningen", "miljo@lund.example"),
    ("kultur-fritid", "Kultur- och fritidsförvaltningen", "kultur@lund.example"),
]
QUEUES = [
    ("kontaktcenter", "Kontaktcenter (huvudnumret)", None),
    ("epost", "E-post", None),
    ("sociala-medier", "Sociala medier", None),
    ("besok", "Besök på servicepunkt", None),
    ("bygglov", "Bygglov", "stadsbyggnad"),
    ("skola", "Förskola och skola", "utbildning"),
]
CHANNEL_DEFAULTS = {
    Channel.PHONE: "kontaktcenter", Channel.EMAIL: "epost", Channel.WEBFORM: "epost",
    Channel.SOCIAL: "sociala-medier", Channel.WALK_IN: "besok",
}
CATEGORIES = [
    ("bygglov", "Bygglov och bygganmälan", "stadsbyggnad"),
    ("forskola-skola", "Förskola och skola", "utbildning"),
    ("avfall", "Avfall och återvinning", "tekniska"),
    ("gator-trafik", "Gator, trafik och parkering", "tekniska"),
    ("felanmalan", "Felanmälan", "tekniska"),
    ("ekonomiskt-bistand", "Ekonomiskt bistånd", "socialforvaltningen"),
    ("miljo-halsa", "Miljö och hälsoskydd", "miljo"),
    ("kultur-fritid", "Kultur och fritid", "kultur-fritid"),
    ("synpunkt", "Synpunkter och klagomål", None),
    ("ovrigt", "Övrigt", None),
]
# Categories published as Open311 GeoReport services: service code, description, group,
# keywords and the definition's attributes (see channels.open311).
OPEN311_SERVICES = {
    "felanmalan": ("gatubelysning", "Trasig eller släckt gatubelysning", "Gator och trafik",
                   ["lampa", "belysning", "gatlykta"],
                   [{"code": "lampa", "datatype": "singlevaluelist", "required": True,
                     "description": "Vilken lampa?",
                     "values": [{"key": "gatlampa", "name": "Gatlampa"},
                                {"key": "parklampa", "name": "Lampa i park"},
                                {"key": "cykelvag", "name": "Lampa vid cykelväg"}]}]),
    "gator-trafik": ("hal-i-gata", "Hål i gata, gång- eller cykelväg", "Gator och trafik",
                     ["hål", "grop", "asfalt"], []),
    "avfall": ("nedskrapning", "Nedskräpning eller full papperskorg", "Renhållning",
               ["skräp", "papperskorg", "nedskräpning"], []),
}
SERVICE_POINTS = [
    ("kristallen", "Medborgarcenter Kristallen", "Lund C"),
    ("dalby", "Servicepunkt Dalby", "Dalby bibliotek"),
    ("genarp", "Servicepunkt Genarp", "Genarps bibliotek"),
    ("veberod", "Servicepunkt Veberöd", "Veberöds bibliotek"),
]
USERS = [
    ("anna.lindqvist@lund.example", "Anna Lindqvist", "guide", None),
    ("erik.johansson@lund.example", "Erik Johansson", "guide", None),
    ("fatima.hassan@lund.example", "Fatima Hassan", "guide", None),
    ("oskar.nilsson@lund.example", "Oskar Nilsson", "guide", None),
    ("maria.svensson@lund.example", "Maria Svensson", "supervisor", None),
    ("johan.berg@lund.example", "Johan Berg", "department", "stadsbyggnad"),
    ("admin@lund.example", "Administratör", "admin", None),
]
# Who `citizencenter run` lets sign in to the pages, with new passwords on every start.
DEMO_LOGINS = [("guide", "anna.lindqvist@lund.example"),
               ("supervisor", "maria.svensson@lund.example")]
CASES = [
    (Channel.PHONE, "Fråga om bygglov för altan", "Behöver jag bygglov för en altan på 20 m²?",
     "bygglov", {"name": "Karin Ek", "phone": "070-123 45 67"}),
    (Channel.EMAIL, "Ansökan om förskoleplats", "Hur lång är kön till förskolan i Dalby?",
     "forskola-skola", {"name": "Ali Rahimi", "email": "ali.rahimi@example.se"}),
    (Channel.WEBFORM, "Trasig gatubelysning", "Lampan på Bytaregatan lyser inte sedan i "
     "måndags.", "felanmalan", {"email": "p.holm@example.se"}),
    (Channel.SOCIAL, "Sophämtning missad", "Soporna hämtades inte i veckan på Genarpsvägen.",
     "avfall", None),
    (Channel.WALK_IN, "Hjälp med e-tjänst", "Besökare ville ha hjälp att logga in i e-tjänsten.",
     "ovrigt", None),
]


def _open311_service(slug: str) -> dict:
    if slug not in OPEN311_SERVICES:
        return {}
    code, description, group, keywords, attributes = OPEN311_SERVICES[slug]
    return {"service_code": code, "service_description": description, "service_group": group,
            "service_keywords": keywords, "service_attributes": attributes}


def seed(session: Session) -> bool:
    """Load the demo data once; return False when it was already there."""
    if session.scalar(select(Department).limit(1)) is not None:
        return False
    departments = {slug: Department(slug=slug, name=name, email=email)
                   for slug, name, email in DEPARTMENTS}
    session.add_all(departments.values())
    queues = {slug: Queue(slug=slug, name=name, department=departments.get(dep))
              for slug, name, dep in QUEUES}
    session.add_all(queues.values())
    session.add_all(Category(slug=slug, name=name, department=departments.get(dep),
                             **_open311_service(slug))
                    for slug, name, dep in CATEGORIES)
    session.add_all(ServicePoint(slug=slug, name=name, address=address)
                    for slug, name, address in SERVICE_POINTS)
    session.flush()
    session.add_all(ChannelDefaultQueue(channel=channel, queue_id=queues[slug].id)
                    for channel, slug in CHANNEL_DEFAULTS.items())
    sla_defaults.seed(session)  # calendars and SLA policies, before the first cases
    session.commit()
    for email, name, role, department in USERS:
        accounts.create_user(session, email, name, role, department)
    routing_demo.seed(session)  # guides' skills and capacities; they start offline
    session.commit()
    for channel, subject, description, category, contact in CASES:
        cases.open_case(session, SYSTEM, channel=channel, subject=subject,
                        description=description, category=category, contact=contact)
    return True


def reset_demo_passwords(session: Session, *, actor: str = "system"
                         ) -> list[tuple[str, str, str]]:
    """Give the demo guide and supervisor fresh passwords: [(role, e-mail, password)]."""
    logins = []
    for role, email in DEMO_LOGINS:
        password = secrets.token_urlsafe(12)
        passwords.set_password(session, email, password, actor=actor)
        logins.append((role, email, password))
    return logins
