"""``manage.py seed_demo``: the demo data of SPEC section 7, through the real services.

Idempotent: users, accounts and campaigns are found by their unique names, posts by their
``demo-…`` external ids; whatever exists is left alone, so a second run changes nothing.

The posts cover every post state of SPEC section 3 and every finding of section 4, written as a
hospital writes (dates, phone numbers, addresses, umlauts, emoji). Each post state is one driver
in ``DemoSeeder.drivers``. Posts that go out are approved first and sent together at the end
(``seed_publishing``): moved to a moment a second ahead, scheduled, claimed by the dispatcher's
own claim and sent through the real send path (outbox files; a webhook nobody answers; an X
client that refuses a text with no room for its marker). One claim is left for a worker that never
comes; one is marked sent by the send task's own step and its worker "dies" before the call
(outcome unknown); one is scheduled after the claim and met by the dispatcher's overdue pass, run
as if it came past the cutoff (overdue); a post in review is moved to the same moment, which
passes (overdue in review). Then Communications' consent revocation of a published story lists a
takedown.
"""

import csv
import datetime as dt
import functools
import io
import os
import secrets
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from approvals.expiry import months_add
from approvals.expiry_services import recertification_record
from approvals.models import ReviewChain, ReviewComment, ReviewRound, RoundStatus, Verdict
from approvals.policy import current_stage_run, open_stage_runs
from approvals.selectors import post_is_overdue
from approvals.services import (
    chain_save,
    decision_record,
    finding_keys,
    reason_required,
    recertification_due_refresh,
    round_submit,
)
from audit.services import event_record
from consent.law import years_after
from consent.models import ConsentRecord, Subject
from consent.services import (
    SignerSpec,
    consent_reconsent_notices_send,
    consent_record_create,
    consent_revoke,
    consent_verify,
    subject_create,
    subject_erase,
)
from consent.withdrawal import Outcome, withdrawal_confirm, withdrawal_request
from consent.withdrawal_check import WithdrawalLink, contact_digest, link_token
from demo.review_demo import (
    DemoClaim,
    DemoThread,
    claims_check,
    claims_mark,
    deputy_period_ensure,
    notices_deliver,
    notices_read_older,
    overdue_remind,
    thread_follow_up,
    thread_start,
)
from evidence.archive import archive_request, archive_run
from evidence.models import ArchiveJob, ArchiveStatus, PurgeReport
from evidence.retention import legal_hold_place, retention_purge
from people import roles
from people.models import EmailDelivery, User
from people.services import user_set_preferences
from plans.importing import CREATED, PlanInvalid, plan_commit
from plans.rows import COLUMNS
from posts.media import ProcessedImage, image_process
from posts.models import (
    Account,
    Campaign,
    Connector,
    ContentType,
    Media,
    MediaScan,
    Platform,
    Post,
    PostStatus,
    ScanStatus,
)
from posts.scans import LOST_AFTER, MAX_ATTEMPTS, media_scan_run, media_scans_resume
from posts.services import (
    FeatureSpec,
    NewMedia,
    TargetSpec,
    account_save,
    campaign_create,
    campaign_update,
    post_create,
    post_crisis_declare,
    post_crisis_request,
    post_move,
    post_schedule,
    post_update,
    post_withdraw,
)
from publishing.models import Publication
from publishing.services import (
    _prepare_group,
    publications_claim_due,
    publications_flag_overdue,
    publications_send,
)

# Posts going out are due this far ahead of the moment they are scheduled; the claim looks a little further.
LIVE_LEAD = dt.timedelta(seconds=2)
LIVE_SLACK = dt.timedelta(seconds=2)
PASSWORD_ENV = "ROUNDS_DEMO_PASSWORD"  # noqa: S105  (the variable's name, not a password)
ACTOR = "seed_demo"
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"

# username, group, staff
DEMO_USERS: list[tuple[str, str, bool]] = [
    ("editor", roles.EDITOR, False),
    ("medical", roles.MEDICAL_REVIEWER, False),
    # A second Medical reviewer: away this week, with "medical" as her deputy (people.DeputyPeriod).
    ("medical2", roles.MEDICAL_REVIEWER, False),
    ("legal", roles.LEGAL_REVIEWER, False),
    ("comms", roles.COMMUNICATIONS_REVIEWER, False),
    ("consent", roles.CONSENT_OFFICER, False),
    # Verifies what "consent" records: a record is verified by a second Consent officer.
    ("consent2", roles.CONSENT_OFFICER, False),
    ("governance", roles.GOVERNANCE, True),
    ("viewer", roles.VIEWER, False),
]
REVIEWER_USERNAMES = {
    roles.MEDICAL_REVIEWER: "medical",
    roles.LEGAL_REVIEWER: "legal",
    roles.COMMUNICATIONS_REVIEWER: "comms",
}
# Every campaign's assigned reviewers: the deciders above and the absent colleague.
CAMPAIGN_REVIEWERS = ("medical", "medical2", "legal", "comms")
# Printed names (signatures, the deputy's inbox) of users the demo creates with one.
FULL_NAMES = {"medical2": ("Dr. Katrin", "Groß-Lüdemann")}
# Gets one e-mail a day with the day's notices instead of one per event.
DIGEST_USER = "legal"


@dataclass(frozen=True)
class DemoAccount:
    platform: str
    name: str
    handle: str
    time_zone: str
    connector: str = Connector.OUTBOX
    credentials: dict[str, str] | None = None


# The five accounts the plan fixtures (fixtures/csv/README.md) expect.
DEMO_ACCOUNTS = [
    DemoAccount(Platform.INSTAGRAM, "Klinikum Nord Instagram", "@klinikum_nord", BERLIN),
    DemoAccount(Platform.FACEBOOK, "Klinikum Nord", "klinikum.nord", BERLIN),
    DemoAccount(Platform.LINKEDIN, "Klinikum Nord Karriere", "klinikum-nord-karriere", BERLIN),
    DemoAccount(Platform.X, "Northside on X", "@northside_health", NEW_YORK),
    DemoAccount(Platform.FACEBOOK, "Northside Health", "northsidehealth", NEW_YORK),
]
# Three more show what goes wrong in publishing, and none sends anything anywhere. The X client
# refuses before any call: the account has no access token (failed). The intranet webhook points
# at port 9 of this machine, where nothing listens: its calls are refused and the publication
# waits to retry. Credentials are stored only where ROUNDS_CREDENTIALS_KEYS is set (else the
# webhook, lacking its URL, fails like the X account).
UNREACHABLE = "http://127.0.0.1:9"
X_CAREERS = "@northside_careers"
INTRANET = "intranet-klinikum-nord"
OLD_PAGE = "klinikum.nord.alt"
TROUBLE_ACCOUNTS = [
    DemoAccount(
        Platform.X,
        "Northside Careers on X",
        X_CAREERS,
        NEW_YORK,
        connector=Connector.PLATFORM,
    ),
    DemoAccount(
        Platform.WEBHOOK,
        "Klinikum Nord Intranet",
        INTRANET,
        BERLIN,
        connector=Connector.WEBHOOK,
        credentials={"url": f"{UNREACHABLE}/rounds", "secret": "demo-webhook-secret"},
    ),
    # Switched off by Governance between scheduling and sending: the send-time gate blocks.
    DemoAccount(Platform.FACEBOOK, "Klinikum Nord (alte Seite)", OLD_PAGE, BERLIN),
]


@dataclass(frozen=True)
class DemoCampaign:
    key: str
    name: str
    goal: str
    colour: str
    hashtags: tuple[str, ...]
    purpose: str
    time_zone: str
    language: str


DEMO_CAMPAIGNS = [
    DemoCampaign(
        "heart",
        "Heart health week",
        "Daily tips for a healthy heart, and nurses for the new cardiology ward.",
        "#dc2626",
        ("Herzgesundheit",),
        "education",
        BERLIN,
        "de",
    ),
    DemoCampaign(
        "flu",
        "Flu vaccination autumn",
        "More people vaccinated against the flu before winter.",
        "#2563eb",
        ("FluShot",),
        "education",
        NEW_YORK,
        "en",
    ),
]

# The states of SPEC section 3, as drivers reach them. "in_review:<n>" has n stages approved.
DRAFT = PostStatus.DRAFT.value
IN_REVIEW_MEDICAL = "in_review:0"
IN_REVIEW_LEGAL = "in_review:1"
IN_REVIEW_COMMS = "in_review:2"
CHANGES_REQUESTED = PostStatus.CHANGES_REQUESTED.value
REJECTED = PostStatus.REJECTED.value
APPROVED = PostStatus.APPROVED.value
SCHEDULED = PostStatus.SCHEDULED.value
WITHDRAWN = PostStatus.WITHDRAWN.value
# Scheduled, then withdrawn: its publications are cancelled.
WITHDRAWN_SCHEDULED = "withdrawn:scheduled"
# Sent in ``seed_publishing``; the outcome follows from the targets' accounts.
LIVE = "live"
# Sent in ``seed_publishing`` after Governance switched the old page off: blocked at send time.
LIVE_ACCOUNT_OFF = "live:account_off"
# Claimed by the dispatcher, not yet taken by a worker (the lease returns it if none does).
LIVE_CLAIMED = "live:claimed"
# Claimed, taken by a worker and marked sent, and the worker died before the answer: the outcome
# is unknown (after the sent lease the dispatcher looks the post up before any retry).
LIVE_SENT = "live:sent"
# Scheduled, and the dispatcher's next pass came more than the cutoff late: overdue, not sent.
LIVE_OVERDUE = "live:overdue"
# In review when its scheduled time passes: the post is overdue and will not go out.
IN_REVIEW_PAST_TIME = "in_review:past_time"
# A crisis post sent in ``seed_publishing``, then rejected by Legal after publication: published,
# with a takedown (cause "review_rejected") for each target.
LIVE_REJECTED_AFTER = "live:rejected_after"
# An education post sent in ``seed_publishing`` whose approval is then dated 13 months back: due
# for re-certification (the default chain re-certifies yearly), in Medical's inbox.
LIVE_RECERTIFICATION_DUE = "live:recertification_due"
# The same, then withdrawn by Medical at re-certification: a takedown (cause "recertification_withdrawn").
LIVE_RECERTIFICATION_WITHDRAWN = "live:recertification_withdrawn"
# Approved, its approval dated back to a few days before the default chain's limit: "approval expires on …".
APPROVED_EXPIRING = "approved:expiring"
# At the Medical stage when its time passes; the reminder job then escalates it to the deputy of
# the absent Medical reviewer ("Escalated to you as deputy of …" in the deputy's inbox).
IN_REVIEW_ESCALATED = "in_review:escalated"
# Medical comments and approves, Legal raises a blocking comment, the editor answers and changes the
# passage: a new round at Medical ("passage changed"; Medical's first signature no longer valid),
# which Medical approves again. At Legal, with open and resolved threads.
IN_REVIEW_REVISED = "in_review:revised"
# At the Medical stage with claims marked in the draft; Medical checked the sources marked so.
IN_REVIEW_CLAIMS = "in_review:claims"
# A draft whose editor asked for crisis handling; nobody declared it yet.
CRISIS_REQUESTED = "draft:crisis_requested"
# The states ``seed_publishing`` finishes: each post is moved to a moment just ahead there.
AT_PUBLISHING = frozenset(
    {
        IN_REVIEW_ESCALATED,
        LIVE,
        LIVE_ACCOUNT_OFF,
        LIVE_CLAIMED,
        LIVE_SENT,
        LIVE_OVERDUE,
        IN_REVIEW_PAST_TIME,
        LIVE_REJECTED_AFTER,
        LIVE_RECERTIFICATION_DUE,
        LIVE_RECERTIFICATION_WITHDRAWN,
    }
)
# States moved to a moment just ahead and left in review: overdue when it passes.
IN_REVIEW_AT_TIME = frozenset({IN_REVIEW_PAST_TIME, IN_REVIEW_ESCALATED})
# Notices each demo user has not read yet; older ones are marked read.
NOTICES_UNREAD = 2
# What the demo's default chain says about expiring approvals (set once, if Governance set nothing).
APPROVAL_VALID_DAYS = 90
RECERTIFY_MONTHS = 12


@dataclass(frozen=True)
class DemoPost:
    key: str  # external id "demo-<key>"
    campaign: str
    state: str
    title: str
    body: str
    handles: tuple[str, ...]
    day: int  # days from today (clamped to this and next month)
    time: dt.time
    image: bool = False
    link: str = ""
    hashtags: tuple[str, ...] = ()
    content_type: str = ContentType.EDUCATION
    sources: str = ""
    comment: str = ""  # the reviewer's comment for changes requested / rejected
    camera_original: bool = False  # the picture still carries the camera's EXIF with GPS (see _camera_original)
    photo_location: bool = False  # the uploaded photo carried GPS: the pipeline removes it, reviewers are told
    # The picture shows a patient's wristband: the image check reads it (Tesseract) and finds patient data.
    wristband: bool = False
    # Faces in the picture, as (left, top, width, height): see _faces_seeded.
    faces: tuple[tuple[int, int, int, int], ...] = ()
    # Legal's reason for showing those faces, given when it approves (a face is acknowledged only with one).
    face_reason: str = ""
    # The picture's check was lost three times (a worker stopped mid-way): it ends failed, and says so.
    check_lost: bool = False
    claims: tuple[DemoClaim, ...] = ()  # marked in the draft, before it is submitted
    threads: tuple[DemoThread, ...] = ()  # review comments (IN_REVIEW_REVISED)
    revised_body: str = ""  # the editor's change after the comments (IN_REVIEW_REVISED)
    crisis_request: str = ""  # the editor's reason for asking for crisis handling
    crisis_by: str = "governance"  # who declares a crisis post (Communications or Governance)

    @property
    def external_id(self) -> str:
        return f"demo-{self.key}"


DEMO_POSTS = [
    DemoPost(
        "heart-kickoff",
        "heart",
        SCHEDULED,
        "Kick-off Herzwoche",
        "Eine Woche lang dreht sich bei uns alles ums Herz. Jeden Tag ein Tipp für ein gesundes Herz.",
        ("@klinikum_nord", "klinikum.nord"),
        3,
        dt.time(9, 30),
        image=True,
        link="https://example.org/herzwoche",
        hashtags=("Herzwoche",),
    ),
    DemoPost(
        "heart-exercise",
        "heart",
        APPROVED,
        "Tipp 1: Bewegung",
        "150 Minuten moderate Bewegung pro Woche senken das Risiko für Herz-Kreislauf-Erkrankungen.",
        ("@klinikum_nord",),
        5,
        dt.time(12, 0),
        image=True,
        sources="WHO guidelines on physical activity and sedentary behaviour, 2020",
    ),
    DemoPost(
        "heart-salt",
        "heart",
        IN_REVIEW_MEDICAL,
        "Tipp 2: Salz",
        "Weniger als 5 g Salz am Tag: So schonen Sie Ihre Gefäße.",
        ("klinikum.nord",),
        7,
        dt.time(18, 0),
        sources="WHO fact sheet: Salt reduction, 2023",
    ),
    DemoPost(
        "heart-careers",
        "heart",
        IN_REVIEW_LEGAL,
        "Wir suchen Pflegekräfte",
        "Unser Herzzentrum wächst: Werden Sie Teil des Teams! Alle Infos unter dem Link.",
        ("klinikum-nord-karriere",),
        9,
        dt.time(10, 0),
        link="https://example.org/karriere",
        hashtags=("Pflege", "Jobs"),
        content_type=ContentType.RECRUITING,
        image=True,
        photo_location=True,
    ),
    DemoPost(
        "heart-summer-party",
        "heart",
        IN_REVIEW_LEGAL,
        "Sommerfest auf Station 4B",
        "Danke an alle, die unser Sommerfest auf der Kardiologie so schön gemacht haben: "
        "Patientinnen, Patienten, Angehörige und das ganze Team!",
        ("@klinikum_nord",),
        10,
        dt.time(16, 0),
        image=True,
        wristband=True,
        faces=((700, 140, 180, 180),),
        content_type=ContentType.BEHIND_THE_SCENES,
    ),
    DemoPost(
        "heart-team-photo",
        "heart",
        IN_REVIEW_COMMS,
        "Das Team der Station 4B sagt Danke",
        "Ein Jahr voller Einsatz: Unser Pflegeteam der Kardiologie bedankt sich bei allen Patientinnen, "
        "Patienten und Angehörigen für das Vertrauen.",
        ("@klinikum_nord",),
        12,
        dt.time(12, 0),
        image=True,
        faces=((620, 120, 200, 200),),
        face_reason="Nur Mitarbeitende der Station 4B im Bild; ihre schriftliche Einwilligung liegt der "
        "Personalabteilung vor (Az. PA-2026-114). Keine Patientinnen oder Patienten erkennbar.",
        content_type=ContentType.BEHIND_THE_SCENES,
    ),
    DemoPost(
        "heart-symptoms",
        "heart",
        IN_REVIEW_COMMS,
        "Herzinfarkt erkennen",
        "Brustschmerz, Atemnot, kalter Schweiß: Rufen Sie sofort 112 an.",
        ("@klinikum_nord", "klinikum.nord"),
        11,
        dt.time(8, 0),
        image=True,
        sources="Deutsche Herzstiftung: Herzinfarkt-Symptome",
    ),
    DemoPost(
        "heart-tour",
        "heart",
        DRAFT,
        "Blick hinter die Kulissen",
        "Ein Tag im Herzkatheterlabor, bald hier.",
        ("klinikum.nord",),
        -3,
        dt.time(15, 0),
        content_type=ContentType.BEHIND_THE_SCENES,
    ),
    DemoPost(
        "heart-lecture",
        "heart",
        WITHDRAWN,
        "Vortrag Bluthochdruck",
        "Vortrag zum Thema Bluthochdruck im Hörsaal 2 (abgesagt).",
        ("klinikum.nord",),
        -5,
        dt.time(17, 0),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "flu-clinics",
        "flu",
        SCHEDULED,
        "Flu shots are here",
        "Flu shots are now available at all Northside clinics, walk-ins welcome Monday to Saturday.",
        ("@northside_health", "northsidehealth"),
        4,
        dt.time(8, 0),
        link="https://example.org/flu",
        hashtags=("FluShot", "PublicHealth"),
    ),
    DemoPost(
        "flu-myths",
        "flu",
        CHANGES_REQUESTED,
        "Myth vs fact",
        "Myth: the flu shot gives you the flu. Fact: injected flu vaccines contain no live virus.",
        ("@northside_health",),
        -2,
        dt.time(17, 45),
        comment="Please cite the source for the vaccine claim.",
    ),
    DemoPost(
        "flu-miracle",
        "flu",
        REJECTED,
        "Never sick again",
        "One shot and you will never catch a cold again!",
        ("northsidehealth",),
        -1,
        dt.time(11, 0),
        comment="The flu shot does not prevent colds; this claim cannot be published.",
    ),
    DemoPost(
        "flu-faq",
        "flu",
        DRAFT,
        "Flu FAQ",
        "Who should get a flu shot this year? Our pharmacists answer your questions.",
        ("northsidehealth",),
        14,
        dt.time(9, 0),
        image=True,
        check_lost=True,
    ),
    DemoPost(
        "flu-pharmacy",
        "flu",
        IN_REVIEW_MEDICAL,
        "Pharmacy hours",
        "Our pharmacy now gives flu shots until 8 pm on weekdays.",
        ("@northside_health",),
        16,
        dt.time(12, 30),
    ),
    DemoPost(
        "flu-kids",
        "flu",
        APPROVED,
        "Kids and the flu",
        "Children from 6 months can get a flu shot. Ask your paediatrician at Northside.",
        ("northsidehealth", "@northside_health"),
        20,
        dt.time(16, 0),
        image=True,
        sources="CDC: Children & Influenza (Flu)",
    ),
    # Findings about the whole post and per target (SPEC section 4), in review and in drafts.
    DemoPost(
        "heart-infotag",
        "heart",
        IN_REVIEW_LEGAL,
        "Infotag Herzgesundheit 12.12.",
        "Infotag Herzgesundheit am 12.12.2026 🫀 von 10–14 Uhr im Hörsaal 2, Klinikum Nord, Lindenstraße 12, "  # noqa: RUF001  (typography as hospitals write)
        "20095 Hamburg. Blutdruck messen, Fragen an unsere Kardiolog:innen, Reanimationskurs für Laien. "
        "Anmeldung unter 040 1234567 oder herzinfotag@klinikum-nord.de.",
        ("klinikum.nord", "klinikum-nord-karriere"),
        12,
        dt.time(10, 0),
        hashtags=("Herzgesundheit", "Infotag", "Hamburg", "Kardiologie", "Reanimation"),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "heart-walking",
        "heart",
        IN_REVIEW_MEDICAL,
        "Tipp 3: Spazierengehen",
        "Studien zeigen: Täglich 30 Minuten zügiges Gehen senkt den Blutdruck und verringert das Risiko "
        "für einen Schlaganfall um bis zu 20 %. 🚶‍♀️ Los geht’s – am besten gleich nach dem Mittagessen!",  # noqa: RUF001  (typography as hospitals write)
        ("@klinikum_nord",),
        13,
        dt.time(7, 30),
        image=True,
    ),
    DemoPost(
        "heart-story-draft",
        "heart",
        DRAFT,
        "Entwurf: Herr W. nach dem Infarkt",
        "Jonas Wolf (geb. 03.04.1961, Fall-Nr. 2024-118734) kam mit einem Hinterwandinfarkt zu uns. "
        "Heute fährt er wieder Rad 🚴 – dank der neuen Therapie ist sein Risiko für einen zweiten Infarkt "  # noqa: RUF001  (typography as hospitals write)
        "deutlich gesunken. Rückfragen an Station 4B: 040 1234-5678.",
        ("@klinikum_nord",),
        18,
        dt.time(11, 30),
        image=True,
        camera_original=True,
        content_type=ContentType.PATIENT_STORY,
    ),
    DemoPost(
        "flu-outbreak-draft",
        "flu",
        DRAFT,
        "Draft: ward 7 flu cases",
        "Three patients on ward 7 tested positive for influenza A this week, among them MRN 00482913 "
        "(born on 04/12/1958). Mr. Harold Finch, 81, admitted on March 2 with pneumonia, is in Room 714 "
        "(Medicare ID 2QC7-HN4-RA58, 41 Maple Street, Dayton, OH 45402). Visitors please call (212) 555-0147 "
        "first or write to infection.control@northside.example. "
        "Flu shots reduce your risk of severe illness by 40 % – get yours today at any Northside clinic, "  # noqa: RUF001  (typography as hospitals write)
        "no appointment needed, Monday to Saturday from 8 am to 8 pm. 💉🏥",
        ("@northside_health",),
        15,
        dt.time(13, 0),
        hashtags=("FluShot", "InfectionControl"),
    ),
    # Scheduled, then withdrawn: its publications are cancelled.
    DemoPost(
        "flu-webinar",
        "flu",
        WITHDRAWN_SCHEDULED,
        "Webinar: flu and pregnancy",
        "Free webinar on flu shots in pregnancy with Dr. Amara Okafor, Thursday 7 pm. Link in our profile.",
        ("northsidehealth",),
        6,
        dt.time(19, 0),
    ),
    # Approved long ago: its approval expires in five days, before its time.
    DemoPost(
        "heart-blood-pressure",
        "heart",
        APPROVED_EXPIRING,
        "Tipp 3: Blutdruck messen",
        "Blutdruck regelmäßig messen: Werte über 140/90 mmHg bitte ärztlich abklären lassen. 🩺",
        ("@klinikum_nord",),
        12,
        dt.time(8, 30),
        image=True,
        sources="ESC/ESH Guidelines for the management of arterial hypertension, 2023",
    ),
    # Published through the real send path in seed_publishing.
    DemoPost(
        "heart-handwashing",
        "heart",
        LIVE_RECERTIFICATION_DUE,
        "Händewaschen: so geht's richtig",
        "Hände 20 Sekunden mit Seife waschen, auch zwischen den Fingern. So schützen Sie sich und andere. 🧼",
        ("klinikum.nord",),
        0,
        dt.time(8, 15),
        sources="WHO Guidelines on Hand Hygiene in Health Care, 2009",
    ),
    DemoPost(
        "heart-cholesterol",
        "heart",
        LIVE_RECERTIFICATION_WITHDRAWN,
        "Cholesterin: Eier sind tabu",
        "Mehr als ein Ei pro Woche erhöht Ihr Cholesterin gefährlich. Verzichten Sie auf Eier! 🥚",
        ("klinikum.nord",),
        0,
        dt.time(8, 45),
        sources="Deutsche Gesellschaft für Ernährung, Empfehlungen 2009",
        comment="Überholt: die DGE-Empfehlung von 2024 begrenzt Eier nicht mehr so. Bitte herausnehmen.",
    ),
    DemoPost(
        "heart-open-day",
        "heart",
        LIVE,
        "Tag der offenen Tür",
        "Heute ist Tag der offenen Tür im Klinikum Nord 🏥 Von 10 bis 16 Uhr: Führungen durchs "
        "Herzkatheterlabor, Blutdruck messen für alle und Kinderprogramm auf der Wiese. "
        "Lindenstraße 12, 20095 Hamburg · Fragen? 040 1234567",
        ("@klinikum_nord", "klinikum.nord"),
        0,
        dt.time(10, 0),
        image=True,
        hashtags=("TagDerOffenenTür",),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "heart-er-closed",
        "heart",
        LIVE,
        "Notaufnahme Nord geschlossen",
        "Wichtiger Hinweis ⚠️ Wegen eines Wasserschadens ist die Notaufnahme Nord heute bis 18 Uhr geschlossen. "
        "Bitte kommen Sie in die Notaufnahme Süd, Am Stadtpark 5. In lebensbedrohlichen Notfällen: 112.",
        ("klinikum.nord", "@klinikum_nord"),
        0,
        dt.time(9, 0),
        image=True,
        content_type=ContentType.CRISIS,
    ),
    DemoPost(
        "heart-er-waiting-times",
        "heart",
        LIVE_REJECTED_AFTER,
        "Notaufnahme Süd: Wartezeiten",
        "Hinweis zur Notaufnahme Süd 🚑 Heute wird jede und jeder innerhalb von 30 Minuten behandelt. "
        "Bitte nur in echten Notfällen kommen; den ärztlichen Bereitschaftsdienst erreichen Sie unter 116 117.",
        ("klinikum.nord", "@klinikum_nord"),
        0,
        dt.time(11, 0),
        image=True,
        content_type=ContentType.CRISIS,
        comment="Die 30 Minuten sind ein Behandlungsversprechen, das wir nicht halten können (Haftung). "
        "Bitte auf allen Kanälen herausnehmen.",
    ),
    DemoPost(
        "heart-intranet",
        "heart",
        LIVE,
        "Intranet: Dienstplan Herzwoche",
        "Liebe Kolleg:innen, der Dienstplan für die Herzwoche hängt ab heute im Intranet. Danke für euren Einsatz! 💙",
        (INTRANET,),
        0,
        dt.time(7, 0),
        content_type=ContentType.OTHER,
    ),
    DemoPost(
        "heart-old-page",
        "heart",
        LIVE_ACCOUNT_OFF,
        "Umzug der Facebook-Seite",
        "Wir ziehen um: Ab sofort finden Sie uns unter facebook.com/klinikum.nord. Danke fürs Folgen! 👋",
        (OLD_PAGE,),
        0,
        dt.time(8, 0),
        content_type=ContentType.OTHER,
    ),
    DemoPost(
        "heart-live-qa",
        "heart",
        LIVE_CLAIMED,
        "Live-Sprechstunde",
        "Gleich live: Dr. Özlem Yıldız beantwortet Ihre Fragen zu Herzrhythmusstörungen. Schreiben Sie uns! 💬",  # noqa: RUF001  (typography as hospitals write)
        ("klinikum.nord",),
        0,
        dt.time(18, 0),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "heart-sports-group",
        "heart",
        LIVE_SENT,
        "Neue Herzsportgruppe",
        "Ab Montag trifft sich unsere neue Herzsportgruppe jeden Montag und Donnerstag um 17:30 Uhr in der "
        "Turnhalle, Haus C. Mitmachen können alle mit ärztlicher Verordnung – Anmeldung unter 040 1234-2210. 🏃",  # noqa: RUF001  (typography as hospitals write)
        ("klinikum.nord",),
        0,
        dt.time(17, 30),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "flu-blood-drive",
        "flu",
        LIVE_OVERDUE,
        "Blood drive today",
        "Our blood drive is on today until 6 pm in the Northside lobby, 1450 Grand Concourse. One donation can "
        "help up to three patients. Walk-ins welcome, bring a photo ID 🩸",
        ("northsidehealth",),
        0,
        dt.time(9, 30),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "flu-school-clinic",
        "flu",
        IN_REVIEW_PAST_TIME,
        "School flu clinic",
        "Free flu shots for students and staff at PS 33, 2424 Jerome Ave, Bronx, today from 3 to 6 pm. Parents "
        "please sign the consent form in the school office first.",
        ("@northside_health",),
        0,
        dt.time(15, 0),
        hashtags=("FluShot",),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "flu-pharmacy-hours",
        "flu",
        LIVE,
        "Pharmacy walk-ins (X)",
        "Flu shots for the whole family at Northside Pharmacy, 1450 Grand Concourse, Bronx: walk in Monday to "
        "Saturday, 8 am to 8 pm, no appointment needed. Bring your insurance card; children from 6 months are "
        "welcome. Questions? Ask our pharmacists at the counter 💉",
        ("@northside_health", X_CAREERS),
        0,
        dt.time(8, 0),
        hashtags=("FluShot",),
    ),
    DemoPost(
        "flu-nurses-x",
        "flu",
        LIVE,
        "Careers: flu season nurses (X)",
        "Join our flu season team! Northside hires registered nurses for the walk-in clinics in the Bronx and "
        "Queens: day shifts, weekends off every other week, tuition support for your BSN. Apply by Friday, "
        "interviews at 1450 Grand Concourse 🙌",
        (X_CAREERS,),
        0,
        dt.time(9, 0),
        hashtags=("Nursing",),
        content_type=ContentType.RECRUITING,
    ),
    # The review tools of issue 14 -----------------------------------------------------------
    DemoPost(
        "heart-smoking",
        "heart",
        IN_REVIEW_REVISED,
        "Tipp 4: Rauchstopp",
        "Rauchstopp lohnt sich in jedem Alter 🚭 Schon 20 Minuten nach der letzten Zigarette sinken Puls und "
        "Blutdruck. Nach einem Jahr ohne Rauchen ist Ihr Herzinfarkt-Risiko garantiert halbiert. Unser "
        "Rauchfrei-Kurs beginnt am Mittwoch, 13.01.2027, um 18 Uhr in Haus C – Anmeldung über die Zentrale "  # noqa: RUF001  (typography as hospitals write)
        "040 1234-0.",
        ("@klinikum_nord", "klinikum.nord"),
        24,
        dt.time(7, 45),
        image=True,
        hashtags=("Rauchfrei", "Herzwoche"),
        revised_body="Rauchstopp lohnt sich in jedem Alter 🚭 Schon 20 Minuten nach der letzten Zigarette sinken "
        "Puls und Blutdruck. Nach einem Jahr ohne Rauchen ist Ihr Herzinfarkt-Risiko etwa halb so hoch wie "
        "bei Rauchenden. Unser Rauchfrei-Kurs beginnt am Mittwoch, 13.01.2027, um 18 Uhr in Haus C – "  # noqa: RUF001  (typography as hospitals write)
        "Anmeldung über die Zentrale 040 1234-0.",
        threads=(
            DemoThread(
                "medical",
                "Schon 20 Minuten nach der letzten Zigarette sinken Puls und Blutdruck.",
                "Fachlich richtig. Vorschlag: „können … sinken“ – bei Bluthochdruck dauert es oft länger.",  # noqa: RUF001  (typography as hospitals write)
                replies=(
                    ("editor", "Danke! Der Satz stammt wörtlich aus der BZgA-Broschüre, ich würde ihn so lassen."),
                    ("medical", "Einverstanden, dann bitte so lassen."),
                ),
                resolved_by="medical",
            ),
            DemoThread(
                "legal",
                "garantiert halbiert",
                "Heilversprechen: „garantiert“ ist nach § 3 HWG irreführend. Bitte streichen oder belegen.",
                blocking=True,
                before_approval=False,
                replies=(
                    ("editor", "Geändert in „etwa halb so hoch wie bei Rauchenden“ – bitte noch einmal prüfen. 🙏"),  # noqa: RUF001  (typography as hospitals write)
                ),
            ),
            DemoThread(
                "comms",
                "",
                "Bitte ein Motiv ohne Zigarette im Bild: Wir zeigen das Rauchen nicht, auch nicht durchgestrichen.",
                before_approval=False,
            ),
        ),
    ),
    DemoPost(
        "heart-nutrition",
        "heart",
        IN_REVIEW_CLAIMS,
        "Tipp 5: Herzgesund essen",
        "Herzgesund essen 🥗 Mediterrane Kost mit Olivenöl und Nüssen senkt das Risiko für Herzinfarkt und "
        "Schlaganfall um rund 30 %. Wer täglich eine Handvoll Nüsse isst, erkrankt laut Studien seltener am Herzen. "
        "Schon 2.000 Schritte mehr am Tag verringern das Sterberisiko messbar. Omega-3-Kapseln sind nach "
        "einem Infarkt dagegen kaum wirksam. Fragen? Unsere Ernährungsberatung erreichen Sie Mo–Fr von "  # noqa: RUF001  (typography as hospitals write)
        "8 bis 16 Uhr über die Zentrale 040 1234-0.",
        ("@klinikum_nord",),
        22,
        dt.time(12, 15),
        image=True,
        hashtags=("Herzgesundheit", "Ernährung"),
        sources="Deutsche Gesellschaft für Ernährung: Vollwertig essen und trinken, 2024",
        claims=(
            DemoClaim(
                "Mediterrane Kost mit Olivenöl und Nüssen senkt das Risiko für Herzinfarkt und Schlaganfall "
                "um rund 30 %.",
                "url",
                "https://www.example.org/leitlinien/herzgesunde-ernaehrung-2025",
                "Eine mediterrane Ernährung senkte schwere Herz-Kreislauf-Ereignisse um etwa 30 Prozent.",
                checked=True,
            ),
            DemoClaim(
                "Wer täglich eine Handvoll Nüsse isst, erkrankt laut Studien seltener am Herzen.",
                "doi",
                "doi:10.5555/herz.2025.0412",
                "Täglicher Nusskonsum war mit einem geringeren Risiko für koronare Herzkrankheit verbunden.",
            ),
            DemoClaim(
                "Schon 2.000 Schritte mehr am Tag verringern das Sterberisiko messbar.",
                "pmid",
                "PMID: 39871234",
                "Jede zusätzliche 2.000 Schritte pro Tag gingen mit einer um 8–11 % geringeren Sterblichkeit einher.",  # noqa: RUF001  (typography as hospitals write)
            ),
        ),
    ),
    DemoPost(
        "heart-defibrillator",
        "heart",
        IN_REVIEW_ESCALATED,
        "Neuer Defibrillator im Foyer",
        "Ab heute hängt im Foyer von Haus A ein öffentlich zugänglicher Defibrillator (AED) 💚 Im Notfall: "
        "112 rufen, AED holen, den Sprachanweisungen folgen. Kurse in Herzdruckmassage für Angehörige: "
        "jeden ersten Samstag im Monat, Anmeldung über die Zentrale 040 1234-0.",
        ("klinikum.nord",),
        0,
        dt.time(14, 0),
        hashtags=("Reanimation", "Herzwoche"),
        content_type=ContentType.EVENT,
    ),
    DemoPost(
        "heart-heat",
        "heart",
        CRISIS_REQUESTED,
        "Hitzewelle: Notaufnahme ausgelastet",
        "Wegen der Hitze ist unsere Notaufnahme heute stark ausgelastet 🌡️ Bitte trinken Sie genug und kommen "
        "Sie nur in echten Notfällen. Den ärztlichen Bereitschaftsdienst erreichen Sie unter 116 117, die "
        "Zentrale des Klinikums unter 040 1234-0.",
        ("klinikum.nord", "@klinikum_nord"),
        1,
        dt.time(13, 0),
        image=True,
        content_type=ContentType.OTHER,
        crisis_request="Die Notaufnahme meldet seit 11 Uhr Wartezeiten über drei Stunden. Bitte heute noch "
        "veröffentlichen – Rücksprache mit Oberärztin Dr. Brandt über die Zentrale 040 1234-0.",  # noqa: RUF001  (typography as hospitals write)
    ),
    DemoPost(
        "heart-power-outage",
        "heart",
        IN_REVIEW_MEDICAL,
        "Stromausfall Haus B: Ambulanz verlegt",
        "⚠️ Wegen eines Stromausfalls in Haus B finden die Sprechstunden der kardiologischen Ambulanz heute in "
        "Haus A, 2. OG, statt. Ihre Termine bleiben bestehen. Fragen beantwortet die Zentrale: 040 1234-0.",
        ("klinikum.nord", "@klinikum_nord"),
        2,
        dt.time(7, 30),
        image=True,
        content_type=ContentType.CRISIS,
        crisis_request="Haus B ohne Strom bis voraussichtlich morgen Mittag; Patient:innen stehen vor "
        "verschlossenen Türen.",
        crisis_by="comms",
    ),
]


def demo_image(*, colour: str, label: str, location: bool = False) -> ProcessedImage:
    """Return a square demo picture, drawn in memory and run through the media pipeline.

    With ``location`` the picture is saved as a phone would, with a GPS position in its EXIF: the
    pipeline removes it and records that the original carried one (the "location removed" finding).
    """
    image = Image.new("RGB", (1080, 1080), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((190, 190, 890, 890), fill="white")
    font = ImageFont.load_default(size=96)
    draw.text((540, 540), label, fill=colour, anchor="mm", font=font)
    exif = Image.Exif()
    if location:
        exif.get_ifd(0x8825).update({1: "N", 2: (53.0, 33.0, 4.2), 3: "E", 4: (9.0, 59.0, 36.8)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **({"exif": exif} if location else {}))
    buffer.seek(0)
    return image_process(upload=buffer)


def wristband_image() -> ProcessedImage:
    """Return a demo photo of a table at a ward party with a patient's wristband on it, run through the pipeline.

    Everything on the band is invented (the check digits too); the image check reads it and finds
    a name, a date of birth, a case number and a ward, as it would on a real photo.
    """
    image = Image.new("RGB", (1200, 900), "#f3e9d2")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((80, 420, 1120, 640), radius=40, fill="white", outline="#9ca3af", width=4)
    font = ImageFont.load_default(size=44)
    for row, line in enumerate(("Lindner, Ursula", "geb. 03.04.1941", "Fall-Nr. 55301172  Station 6")):
        draw.text((130, 440 + row * 62), line, fill="#111827", font=font)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    buffer.seek(0)
    return image_process(upload=buffer)


def _faces_seeded(media: Media, faces: tuple[tuple[int, int, int, int], ...]) -> None:
    """Add faces to a demo picture's check (which has run), as if the detector had found them.

    The repository ships no photo of a person (nobody's face should be in a demo), so the face
    finding, its box and Legal's reason are shown on a drawn picture; what the check read of the
    picture's text is its own.
    """
    MediaScan.objects.filter(media=media).update(faces=[list(face) for face in faces])


def _check_lost(media: Media) -> None:
    """Make the picture's check one a worker lost its last try at; the schedule's pass then fails it.

    `posts.scans.media_scans_resume` is what fails it, as it would a check lost three times.
    """
    long_ago = timezone.now() - LOST_AFTER - dt.timedelta(minutes=1)
    MediaScan.objects.filter(media=media).update(status=ScanStatus.RUNNING, attempts=MAX_ATTEMPTS, queued_at=long_ago)
    media_scans_resume()


def _camera_original(media: Media) -> None:
    """Put the camera's original EXIF (with a GPS position) back into a stored demo picture.

    The media pipeline strips all metadata, so no upload can carry GPS; a file put back by hand
    (say, restored from the photographer's backup) can, and the findings catch it. The demo has
    no other way to show that finding.
    """
    with media.file.open("rb") as handle, Image.open(handle) as stored:
        image = stored.copy()
    exif = Image.Exif()
    exif[0x010F] = "Demo camera"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (53.0, 35.0, 17.5), 3: "E", 4: (10.0, 0.0, 42.1)})
    with media.file.open("wb") as handle:
        image.save(handle, "JPEG", quality=90, exif=exif)


DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


# An evergreen series the editor imported as a plan (plans.importing.plan_commit): short tips, each
# in German for Klinikum Nord and in English for Northside. Drafts, many to a day, so that a month
# cell shows "+N more", the month's list and the campaign's posts run onto a second page.
TIPS_CAMPAIGN = "Gesundheitstipps 2027 / Health tips"
TIPS_FILE = "gesundheitstipps-2027.csv"
TIPS_GOAL = "Ein Tipp am Tag, das ganze Jahr: kurze Gesundheitstipps auf Deutsch und Englisch."
TIPS_COLOUR = "#059669"
TIPS_ACCOUNTS = {"de": ("facebook:klinikum.nord", BERLIN), "en": ("facebook:northsidehealth", NEW_YORK)}
# The busy day (see _tips_days) carries this many tips, both languages: three show in its month cell.
TIPS_BUSY_DAY = 4
# Tips in this month after the busy day; the rest go into next month.
TIPS_THIS_MONTH = 20
TIPS_TIMES = (dt.time(7, 30), dt.time(9, 0), dt.time(11, 15), dt.time(12, 30), dt.time(14, 0), dt.time(16, 45))
# (German, English) pairs; their order is the plan's order.
DEMO_TIPS: list[tuple[str, str]] = [
    (
        "Trinken Sie über den Tag verteilt 1,5-2 Liter Wasser, im Winter genauso wie im Sommer.",
        "Drink 1.5-2 litres of water over the day, in winter just as in summer.",
    ),
    (
        "Händewaschen: 20 Sekunden mit Seife, auch zwischen den Fingern. So einfach schützt man sich vor Grippe.",
        "Wash your hands for 20 seconds with soap, between the fingers too. It keeps the flu away.",
    ),
    (
        "Treppe statt Aufzug: Schon 3 Etagen am Tag stärken Herz und Kreislauf.",
        "Take the stairs: three floors a day are good for your heart.",
    ),
    (
        "Schlaf ist Medizin. 7-8 Stunden pro Nacht senken das Risiko für Bluthochdruck.",
        "Sleep is medicine: 7-8 hours a night lower the risk of high blood pressure.",
    ),
    (
        "Blutdruck messen? Am besten morgens, vor dem Frühstück, im Sitzen und nach 5 Minuten Ruhe.",
        "Measuring your blood pressure? In the morning before breakfast, seated, after 5 minutes' rest.",
    ),
    (
        "Obst und Gemüse: 5 Portionen am Tag, eine Portion passt in Ihre Hand.",
        "Five portions of fruit and vegetables a day; one portion fits in your hand.",
    ),
    (
        "Zucker versteckt sich oft in Müsli, Joghurt und Säften. Ein Blick aufs Etikett lohnt sich.",
        "Sugar hides in cereal, yoghurt and juice. Read the label.",
    ),
    (
        "Rauchstopp lohnt sich in jedem Alter. Unsere Raucherambulanz: Tel. 040 1234-5670 (Mo-Fr 8-16 Uhr).",
        "Quitting smoking pays off at any age. Our stop-smoking clinic: (212) 555-0147, Mon-Fri 8am-4pm.",
    ),
    (
        "Sonnenschutz auch im Winter: Schnee reflektiert bis zu 80 % der UV-Strahlung.",
        "Sunscreen in winter too: snow reflects up to 80% of UV light.",
    ),
    (
        "Rückenschmerzen? Bewegung hilft meist mehr als Schonung. Gehen Sie täglich 30 Minuten spazieren.",
        "Back pain? Moving usually helps more than resting. Walk 30 minutes a day.",
    ),
    (
        "Impfpass verlegt? Ihre Hausarztpraxis kann die Impfungen nachtragen. Tetanus alle 10 Jahre auffrischen!",
        "Lost your vaccination record? Your doctor can rebuild it. Tetanus boosters every 10 years.",
    ),
    (
        "Salz sparen: Kräuter wie Petersilie, Schnittlauch und Bärlauch würzen genauso gut.",
        "Cut down on salt: herbs like parsley and chives season just as well.",
    ),
    (
        "Bildschirmpause: Alle 20 Minuten 20 Sekunden in die Ferne schauen. Ihre Augen danken es.",
        "Screen break: every 20 minutes, look into the distance for 20 seconds.",
    ),
    (
        "Herzinfarkt-Warnzeichen bei Frauen sind oft Übelkeit, Rückenschmerzen und Atemnot. Im Zweifel 112.",
        "Heart attack signs in women are often nausea, back pain and shortness of breath. If in doubt, call 911.",
    ),
    (
        "Schlaganfall erkennen: Gesicht, Arme, Sprache, dann sofort 112 wählen. Jede Minute zählt.",
        "Spot a stroke FAST: face, arms, speech, time to call 911. Every minute counts.",
    ),
    (
        "Grippeimpfung 2026/27: ohne Termin in unserer Impfsprechstunde, Haus B, Erdgeschoss.",
        "Flu shots 2026/27: walk in at our vaccination clinic, building B, first floor.",
    ),
    (
        "Zähneputzen schützt auch das Herz: Entzündungen im Mund belasten die Gefäße.",
        "Brushing your teeth protects your heart: gum disease strains the blood vessels.",
    ),
    (
        "Alkohol: An mindestens zwei Tagen pro Woche ganz verzichten.",
        "Alcohol: keep at least two days a week alcohol-free.",
    ),
    (
        "Kinder brauchen täglich 60 Minuten Bewegung. Toben zählt auch!",
        "Children need 60 minutes of activity a day; running around counts.",
    ),
    (
        "Medikamente richtig lagern: nicht im Badezimmer, sondern kühl und trocken.",
        "Store medicines somewhere cool and dry, not in the bathroom.",
    ),
    (
        "Stress abbauen: Dreimal tief durchatmen, 4 Sekunden ein, 6 Sekunden aus.",
        "Stress relief: three deep breaths, 4 seconds in, 6 seconds out.",
    ),
    (
        "Vorsorge ab 35: Alle 3 Jahre zum Check-up, die Kasse zahlt.",
        "Check-ups: ask your doctor which screenings fit your age.",
    ),
    (
        "Glatteis: kleine Schritte, Hände aus den Taschen. Unsere Notaufnahme ist rund um die Uhr für Sie da.",
        "Icy sidewalks: small steps, hands out of your pockets. Our ER is open around the clock.",
    ),
    (
        "Ballaststoffe aus Vollkorn, Hülsenfrüchten und Nüssen halten lange satt.",
        "Fibre from whole grains, beans and nuts keeps you full for longer.",
    ),
    (
        "Erste Hilfe auffrischen: Kurse im Bildungszentrum, Anmeldung unter Tel. 040 1234-5800.",
        "Refresh your first aid: classes at our education center, call (212) 555-0180.",
    ),
    (
        "Hörtest: Wer beim Fernsehen lauter stellt als die Familie, sollte zum HNO-Arzt.",
        "If you turn the TV up louder than your family does, get your hearing checked.",
    ),
    (
        "Diabetes-Sprechstunde jeden Donnerstag 14-17 Uhr, Station 4 Süd. Bitte Blutzuckertagebuch mitbringen.",
        "Diabetes clinic every Thursday 2-5pm, ward 4 South. Bring your glucose log.",
    ),
    (
        "Kältetipp: Mehrere dünne Schichten wärmen besser als ein dicker Pullover.",
        "Cold weather: several thin layers keep you warmer than one thick sweater.",
    ),
    (
        "Organspende: Sprechen Sie mit Ihrer Familie über Ihre Entscheidung. Infos: organspende-info.de",
        "Organ donation: talk to your family about your decision.",
    ),
    (
        "Neujahrsvorsatz? Kleine Ziele halten länger: jeden Tag 1.000 Schritte mehr.",
        "New Year's resolution? Small goals last: 1,000 more steps a day.",
    ),
]


@dataclass(frozen=True)
class DemoConsent:
    reference: str
    name: str
    # active | expiring | expired | revoked | revoked_after_publication | withdrawn_online | erased
    # | ended_long_ago | held (ended long ago, its person under a legal hold)
    state: str
    signers: tuple[tuple[str, str, str], ...]  # (role, name, authority)
    born_years_ago: int | None = None
    # Days after the date ``born_years_ago`` years ago (default: 40 days before it).
    born_days_later: int = -40
    died_years_ago: int | None = None
    story: str = ""  # external id key of a patient story featuring the person
    # Whether the signer's copy of the form (45 CFR 164.508(c)(4)) was handed over when it was recorded.
    copy_given: bool = True


ENDED_LONG_AGO = ("ended_long_ago", "held")

DEMO_CONSENTS = [
    DemoConsent("DEMO-0001", "Anna Berger", "active", (("subject", "Anna Berger", ""),), story="story-anna"),
    DemoConsent("DEMO-0002", "Jonas Wolf", "expired", (("subject", "Jonas Wolf", ""),)),
    DemoConsent("DEMO-0003", "Maria Klein", "revoked", (("subject", "Maria Klein", ""),), story="story-maria"),
    DemoConsent(
        "DEMO-0004",
        "Lena H.",
        "active",
        (("subject", "Lena H.", ""), ("guardian", "Petra H.", "mother")),
        born_years_ago=12,
    ),
    # His story goes out, then he withdraws his consent: the Publishing page lists a takedown.
    DemoConsent(
        "DEMO-0005",
        "Karl Öztürk",
        "revoked_after_publication",
        (("subject", "Karl Öztürk", ""),),
        story="story-karl",
    ),
    # Ends in three weeks: the Consent officers' "Needs attention" asks for a renewal.
    DemoConsent("DEMO-0006", "Emine Demir", "expiring", (("subject", "Emine Demir", ""),)),
    # Turns 18 in a month: the registry says "re-consent needed" and "Needs attention" lists him.
    DemoConsent(
        "DEMO-0007",
        "Timo K.",
        "active",
        (("subject", "Timo K.", ""), ("guardian", "Sabine K.", "mother")),
        born_years_ago=18,
        born_days_later=30,
    ),
    # Died twelve years ago: KUG §22's ten years are over, HIPAA's fifty are not (the registry says both).
    DemoConsent(
        "DEMO-0008",
        "Dr. Friedrich Hahn",
        "active",
        (("relative", "Ursula Hahn", "widow"),),
        died_years_ago=12,
    ),
    # Signed in the morning, her copy not yet handed over: the record offers "Record copy given".
    DemoConsent("DEMO-0009", "Sofia Rossi", "active", (("subject", "Sofia Rossi", ""),), copy_given=False),
    # Withdrew online: the printed form's link, his birth date, the link mailed to him, confirmed.
    DemoConsent(
        "DEMO-0010", "Peter Schmidt", "withdrawn_online", (("subject", "Peter Schmidt", ""),), born_years_ago=47
    ),
    # Asked for erasure (GDPR Art. 17): her scheduled story is blocked, her name gone from the records.
    DemoConsent("DEMO-0011", "Ingrid Vogel", "erased", (("subject", "Ingrid Vogel", ""),), story="story-ingrid"),
    # Consents that ended eleven years ago: the retention purge removes one signed form and keeps the
    # other, whose person is under a legal hold (the purge report lists both).
    DemoConsent("DEMO-0012", "Herbert Lang", "ended_long_ago", (("subject", "Herbert Lang", ""),)),
    DemoConsent("DEMO-0013", "Gisela Brandt", "held", (("subject", "Gisela Brandt", ""),)),
]


@dataclass
class DemoSeeder:
    """Creates what is missing of the demo data; reports each line through ``write``."""

    write: Callable[[str], None]
    password: str | None = None
    generated_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    hashed_password: str | None = None
    checked_hashes: dict[str, bool] = field(default_factory=dict)  # stored hash: whether it matches ``password``
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    created_posts: int = 0
    new_posts: list[Post] = field(default_factory=list)
    # Approved posts waiting for seed_publishing, with what to do just before and after sending.
    going_live: list[tuple[Post, str]] = field(default_factory=list)
    after_publishing: list[Callable[[], None]] = field(default_factory=list)

    @property
    def sections(self) -> list[Callable[[], None]]:
        return [
            self.seed_users,
            self.seed_chains,
            self.seed_accounts,
            self.seed_campaigns,
            self.seed_deputies,
            self.seed_posts,
            self.seed_consent,
            self.seed_publishing,
            self.seed_notices,
            self.seed_evidence,
            self.seed_tips,
        ]

    @property
    def drivers(self) -> dict[str, Callable[[Post, DemoPost], None]]:
        return {
            DRAFT: lambda post, spec: None,
            IN_REVIEW_MEDICAL: lambda post, spec: self._review(post, approvals=0),
            IN_REVIEW_LEGAL: lambda post, spec: self._review(post, approvals=1),
            IN_REVIEW_COMMS: lambda post, spec: self._review(post, approvals=2, face_reason=spec.face_reason),
            APPROVED: lambda post, spec: self._review(post, approvals=None),
            SCHEDULED: self._schedule,
            CHANGES_REQUESTED: lambda post, spec: self._review(post, approvals=0, last=("request_changes", spec)),
            REJECTED: lambda post, spec: self._review(post, approvals=1, last=("reject", spec)),
            WITHDRAWN: self._withdraw,
            WITHDRAWN_SCHEDULED: self._withdraw_scheduled,
            LIVE: self._approve_for_publishing,
            LIVE_ACCOUNT_OFF: self._approve_for_publishing,
            LIVE_CLAIMED: self._approve_for_publishing,
            LIVE_SENT: self._approve_for_publishing,
            LIVE_OVERDUE: self._approve_for_publishing,
            IN_REVIEW_PAST_TIME: lambda post, spec: self._review(post, approvals=1),
            IN_REVIEW_ESCALATED: lambda post, spec: self._review(post, approvals=0),
            IN_REVIEW_REVISED: self._review_with_threads,
            IN_REVIEW_CLAIMS: self._review_claims,
            CRISIS_REQUESTED: lambda post, spec: None,
            LIVE_REJECTED_AFTER: self._approve_then_reject_after_publication,
            LIVE_RECERTIFICATION_DUE: self._approve_then_date_back,
            APPROVED_EXPIRING: self._approve_long_ago,
            LIVE_RECERTIFICATION_WITHDRAWN: self._approve_then_withdraw_at_recertification,
        }

    def run(self) -> None:
        for section in self.sections:
            section()

    # People ---------------------------------------------------------------------------------

    def seed_users(self) -> None:
        self.write("username / password / role")
        for username, role, staff in DEMO_USERS:
            try:
                group = Group.objects.get(name=role)
            except Group.DoesNotExist:
                raise CommandError(f"The group {role!r} is missing; run migrate first.") from None
            with transaction.atomic():
                user, shown = self._user(username, staff)
                if not user.groups.filter(pk=group.pk).exists():
                    user.groups.add(group)
                    event_record(actor=ACTOR, action="user.updated", obj=user, changes={"groups": {"added": role}})
            self.users[username] = user
            self.write(f"{username} / {shown} / {role}")

    def _user(self, username: str, staff: bool) -> tuple[User, str]:
        user = User.objects.filter(username=username).first()
        if user is None:
            first_name, last_name = FULL_NAMES.get(username, ("", ""))
            user = User.objects.create(
                username=username,
                email=f"{username}@example.org",
                password=self._password_hash(),
                is_staff=staff,
                first_name=first_name,
                last_name=last_name,
            )
            event_record(actor=ACTOR, action="user.created", obj=user, changes={"username": username})
            if username == DIGEST_USER:
                user_set_preferences(user=user, actor=user, email_delivery=EmailDelivery.DIGEST)
            return user, self.password or self.generated_password
        if staff and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            event_record(actor=ACTOR, action="user.updated", obj=user, changes={"is_staff": [False, True]})
        if self.password and not self._has_password(user):
            user.password = self._password_hash()
            user.save(update_fields=["password"])
            event_record(actor=ACTOR, action="user.password_reset", obj=user, changes={"password": "changed"})
            return user, self.password
        return user, "(unchanged)" if not self.password else self.password

    def _password_hash(self) -> str:
        # All demo users share one password: it is hashed once, as the hasher is slow on purpose
        # (seven hashes were a third of the first run's time).
        if self.hashed_password is None:
            self.hashed_password = make_password(self.password or self.generated_password)
        return self.hashed_password

    def _has_password(self, user: User) -> bool:
        """Whether ``user``'s password is ``self.password``, checking each stored hash once."""
        stored = user.password
        if stored not in self.checked_hashes:
            self.checked_hashes[stored] = check_password(self.password, stored)
        return self.checked_hashes[stored]

    # Review chains --------------------------------------------------------------------------

    def seed_chains(self) -> None:

        # The default and expedited chains come with approvals' migration 0002.
        for label, lookup in (("default", {"is_default": True}), ("expedited", {"is_expedited": True})):
            chain = ReviewChain.objects.filter(active=True, **lookup).first()
            if chain is None:
                raise CommandError(f"No active {label} review chain; run migrate (approvals 0002).")
            self.write(f"{label} chain: {chain.name}")
        default = ReviewChain.objects.get(active=True, is_default=True)
        if default.approval_valid_days is None and default.recertify_months is None:
            default.approval_valid_days, default.recertify_months = APPROVAL_VALID_DAYS, RECERTIFY_MONTHS
            chain_save(chain=default, actor=self.users["governance"])
            self.write(f"default chain: approvals valid {APPROVAL_VALID_DAYS} days, re-certified every year")

    # Accounts -------------------------------------------------------------------------------

    def seed_accounts(self) -> None:
        for spec in DEMO_ACCOUNTS + TROUBLE_ACCOUNTS:
            account = Account.objects.filter(platform=spec.platform, handle=spec.handle).first()
            state = "exists"
            if account is None:
                account = account_save(
                    account=Account(
                        platform=spec.platform,
                        name=spec.name,
                        handle=spec.handle,
                        time_zone=spec.time_zone,
                        connector=spec.connector,
                    ),
                    actor=self.users["governance"],
                    credentials=spec.credentials if settings.ROUNDS_CREDENTIALS_KEYS else None,
                )
                state = "created"
            self.accounts[spec.handle] = account
            self.write(f"account {account} {spec.handle}: {state}")

    # Campaigns ------------------------------------------------------------------------------

    def seed_campaigns(self) -> None:
        today = timezone.localdate()
        start, end = _month_start(today), _next_month_end(today)
        reviewers = [self.users[name] for name in CAMPAIGN_REVIEWERS]
        for spec in DEMO_CAMPAIGNS:
            campaign = Campaign.objects.filter(name=spec.name).first()
            state = "exists"
            if campaign is None:
                campaign = campaign_create(
                    actor=self.users["editor"],
                    name=spec.name,
                    goal=spec.goal,
                    start_date=start,
                    end_date=end,
                    colour=spec.colour,
                    hashtags=spec.hashtags,
                    purpose=spec.purpose,
                    team=[self.users["editor"]],
                    reviewers=reviewers,
                )
                state = "created"
            self.campaigns[spec.key] = campaign
            self.write(f"campaign {campaign.name}: {state}")

    # Deputies -------------------------------------------------------------------------------

    def seed_deputies(self) -> None:
        """The second Medical reviewer is away this week and named "medical" her deputy."""
        with transaction.atomic():
            deputy_period_ensure(absent=self.users["medical2"], deputy=self.users["medical"], write=self.write)

    # Posts ----------------------------------------------------------------------------------

    def seed_posts(self) -> None:
        existing = set(
            Post.objects.filter(external_id__in=[spec.external_id for spec in DEMO_POSTS]).values_list(
                "external_id", flat=True
            )
        )
        for spec in DEMO_POSTS:
            if spec.external_id in existing:
                continue
            try:
                with transaction.atomic():
                    post = self._post_create(spec)
                    self.drivers[spec.state](post, spec)
            except (ValidationError, PermissionDenied) as exc:
                # E.g. a demo account deactivated by hand: say which post and why, write nothing of it.
                problems = "; ".join(getattr(exc, "messages", None) or [str(exc)])
                raise CommandError(f"{spec.external_id} cannot be created: {problems}") from exc
            self.created_posts += 1
            post.refresh_from_db()
            self.new_posts.append(post)
            if spec.state in AT_PUBLISHING:
                self.going_live.append((post, spec.state))
            else:
                self.write(f"post {spec.external_id}: {post.status}{self._stage_note(post)}")
        self.write(f"{self.created_posts} posts created, {len(existing)} already there.")

    def _stage_note(self, post: Post) -> str:

        run = current_stage_run(post=post) if post.status == PostStatus.IN_REVIEW else None
        return f" ({run.stage.name})" if run is not None else ""

    def _post_create(self, spec: DemoPost) -> Post:
        campaign_spec = next(c for c in DEMO_CAMPAIGNS if c.key == spec.campaign)
        campaign = self.campaigns[spec.campaign]
        media = []
        if spec.image:
            label = "Klinikum Nord" if campaign_spec.time_zone == BERLIN else "Northside"
            media = [
                NewMedia(
                    image=wristband_image()
                    if spec.wristband
                    else demo_image(colour=campaign_spec.colour, label=label, location=spec.photo_location),
                    alt_text=f"{label}: {spec.title}",
                )
            ]
        crisis = spec.content_type == ContentType.CRISIS
        post = post_create(
            actor=self.users["editor"],
            campaign=campaign,
            data={
                "title": spec.title,
                "body": spec.body,
                "link": spec.link,
                "hashtags": list(spec.hashtags),
                # Editors do not declare crises: Governance does, below (posts.services.post_crisis_declare).
                "content_type": ContentType.OTHER if crisis else spec.content_type,
                "language": campaign_spec.language,
                "sources": spec.sources,
            },
            targets=[TargetSpec(account=self.accounts[handle]) for handle in spec.handles],
            media=media,
            scheduled_at=_planned(spec.day, spec.time, campaign_spec.time_zone),
            time_zone=campaign_spec.time_zone,
            external_id=spec.external_id,
        )
        if spec.camera_original:
            for item in post.media.all():
                _camera_original(item)
        for item in post.media.all():
            # Checked here, not by a worker later: the demo's posts go through Legal below, and Legal
            # approves only once an image's check has ended.
            media_scan_run(item.pk)
            if spec.faces:
                _faces_seeded(item, spec.faces)
            if spec.check_lost:
                _check_lost(item)
        if spec.claims:
            claims_mark(post=post, editor=self.users["editor"], claims=spec.claims)
        if spec.crisis_request:
            post = post_crisis_request(post=post, actor=self.users["editor"], reason=spec.crisis_request)
        if crisis:
            post = post_crisis_declare(post=post, actor=self.users[spec.crisis_by])
        return post

    def _review(
        self,
        post: Post,
        *,
        approvals: int | None,
        last: tuple[str, DemoPost] | None = None,
        face_reason: str = "",
    ) -> None:
        """Submit, approve ``approvals`` stages (None: all), then optionally one other verdict.

        A stage that acknowledges findings gives ``face_reason`` for each face (which needs a reason).
        """

        round_submit(post=post, actor=self.users["editor"])
        done = 0
        while approvals is None or done < approvals:
            run = current_stage_run(post=post)
            if run is None:
                break
            acknowledged = finding_keys(post=post) if run.stage.must_acknowledge_findings else []
            decision_record(
                stage_run=run,
                reviewer=self._reviewer(run.stage.group.name),
                verdict="approve",
                acknowledged=acknowledged,
                reasons={key: face_reason for key in acknowledged if face_reason and reason_required(key)},
            )
            done += 1
        if last is not None:
            verdict, spec = last
            run = current_stage_run(post=post)
            if run is None:
                raise CommandError(f"{spec.external_id}: no stage left to {verdict}.")
            decision_record(
                stage_run=run, reviewer=self._reviewer(run.stage.group.name), verdict=verdict, comment=spec.comment
            )

    def _review_claims(self, post: Post, spec: DemoPost) -> None:
        """Submit; Medical checks the sources of the claims marked ``checked`` and leaves the rest."""
        self._review(post, approvals=0)
        claims_check(post=post, reviewer=self.users["medical"], claims=spec.claims)

    def _review_with_threads(self, post: Post, spec: DemoPost) -> None:
        """Comments at Medical and Legal, the editor's answer and change, and Medical's second approval.

        Medical's first signature names the first text and is no longer valid; its second one is.
        """
        self._review(post, approvals=0)
        threads: list[tuple[DemoThread, ReviewComment]] = []
        for thread in spec.threads:
            if thread.before_approval:
                threads.append((thread, thread_start(post=post, thread=thread, users=self.users)))
        self._approve_current(post)
        for thread in spec.threads:
            if not thread.before_approval:
                threads.append((thread, thread_start(post=post, thread=thread, users=self.users)))
        for thread, comment in threads:
            thread_follow_up(comment=comment, thread=thread, users=self.users)
        post_update(post=post, actor=self.users["editor"], data={"body": spec.revised_body})
        self._approve_current(post)

    def _approve_current(self, post: Post) -> None:
        run = current_stage_run(post=post)
        if run is None:
            raise CommandError(f"{post.external_id}: no stage open to approve.")
        decision_record(stage_run=run, reviewer=self._reviewer(run.stage.group.name), verdict=Verdict.APPROVE)

    def _reviewer(self, group_name: str) -> User:
        username = REVIEWER_USERNAMES.get(group_name)
        if username is None:
            raise CommandError(f"No demo reviewer for the stage group {group_name!r}.")
        return self.users[username]

    # Consent --------------------------------------------------------------------------------

    def seed_consent(self) -> None:
        """Subjects with an active, an expiring, an expired and a revoked consent, a minor signed by two, a minor
        turning 18 within a month (re-consent needed) and a man who died twelve years ago (signed by his widow).

        Maria's story is scheduled first and then her consent is revoked: the post ends blocked.
        """
        officer, second = self.users["consent"], self.users["consent2"]
        today = timezone.localdate()
        for spec in DEMO_CONSENTS:
            if self._subject_exists(spec):
                self.write(f"subject {spec.reference}: exists")
                continue
            with transaction.atomic():
                born = died = None
                if spec.born_years_ago is not None:
                    born = years_after(today, -spec.born_years_ago) + dt.timedelta(days=spec.born_days_later)
                if spec.died_years_ago is not None:
                    died = years_after(today, -spec.died_years_ago) - dt.timedelta(days=75)
                subject = subject_create(
                    actor=officer,
                    data={
                        "display_name": spec.name,
                        "reference": spec.reference,
                        "date_of_birth": born,
                        "deceased_on": died,
                    },
                )
                expired = spec.state == "expired"
                long_ago = spec.state in ENDED_LONG_AGO
                signed_on = today - dt.timedelta(days=400 if expired else 20)
                if long_ago:
                    signed_on = years_after(today, -12)
                expires = {
                    "expired": today - dt.timedelta(days=10),
                    "expiring": today + dt.timedelta(days=21),
                    **{state: years_after(today, -11) for state in ENDED_LONG_AGO},
                }
                record = consent_record_create(
                    actor=officer,
                    subject=subject,
                    data={
                        "media_kinds": ["photo", "name", "quote", "story", "condition"],
                        "description": "Foto und Geschichte der Behandlung auf den Kanälen des Klinikums.",
                        "disclosing_organisation": "Klinikum Nord",
                        "all_platforms": True,
                        "purposes": ["education", "marketing"],
                        "signed_on": signed_on,
                        "copy_given_on": signed_on if spec.copy_given else None,
                        "copy_given_how": "handed_over" if spec.copy_given else "",
                        "expires_on": expires.get(spec.state, today + dt.timedelta(days=365)),
                        "states_right_to_revoke": True,
                        "states_no_conditioning": True,
                        "states_redisclosure": True,
                    },
                    signers=[
                        SignerSpec(role=role, name=name, authority=authority) for role, name, authority in spec.signers
                    ],
                    document=io.BytesIO(DEMO_PDF),
                    document_name=f"{spec.reference}.pdf",
                    withdrawal_born=born if spec.state == "withdrawn_online" else None,
                )
                if spec.copy_given:  # without the copy the second officer cannot verify yet
                    consent_verify(record=record, actor=second)
                if spec.story:
                    self._story(spec, subject, record)
                if spec.state == "revoked":
                    consent_revoke(
                        record=record, actor=officer, received_via="letter", reason="Möchte nicht mehr gezeigt werden."
                    )
                if spec.state == "revoked_after_publication":
                    self.after_publishing.append(functools.partial(self._revoke_after_publication, record))
                if spec.state == "held":
                    legal_hold_place(
                        actor=self.users["governance"],
                        subject=subject,
                        reason="Klage wegen der Veröffentlichung angekündigt (Schreiben der Kanzlei vom 3. März); "
                        "alle Unterlagen aufbewahren.",
                    )
            # After the atomic block: the link is mailed and the erasure's files deleted on commit.
            if spec.state == "withdrawn_online":
                assert born is not None
                self._withdraw_online(record, born)
            if spec.state == "erased":
                with transaction.atomic():
                    subject_erase(
                        subject=subject,
                        actor=officer,
                        reason="Antrag auf Löschung nach Art. 17 DSGVO, Brief vom 2. November.",
                        received_via="letter",
                    )
            self.write(f"subject {spec.reference} ({spec.state} consent): created")
        # The daily job, now: the minor turning 18 is announced to the Consent officers (once).
        noticed = consent_reconsent_notices_send()
        self.write(f"re-consent notices: {noticed} new")

    def _subject_exists(self, spec: DemoConsent) -> bool:
        if spec.state == "erased":  # the erasure replaced the reference; the story post stays
            return Post.objects.filter(external_id=f"demo-{spec.story}").exists()
        return Subject.objects.filter(reference=spec.reference).exists()

    def _withdraw_online(self, record: ConsentRecord, born: dt.date) -> None:
        """What the person does on /withdraw/: ask for the link with the form's reference, then confirm it."""
        email = "peter.schmidt@example.org"
        outcome = withdrawal_request(reference=record.form_reference, born=born, email=email)
        if outcome is not Outcome.LINK_SENT:
            raise CommandError(f"online withdrawal of {record.subject.reference}: {outcome}")
        # The link the mail carries (the mail itself goes to nobody).
        token = link_token(WithdrawalLink(reference=record.form_reference, contact=contact_digest(email)))
        withdrawal_confirm(token=token, reason="Ich möchte nicht mehr in den Beiträgen vorkommen.")
        self.write(f"consent of {record.subject.reference} withdrawn online")

    def _revoke_after_publication(self, record: ConsentRecord) -> None:
        with transaction.atomic():
            consent_revoke(
                record=record,
                actor=self.users["consent"],
                received_via="email",
                reason="Widerruf per E-Mail: möchte den Beitrag nicht mehr online sehen.",
            )
        self.write(f"consent of {record.subject.reference} revoked after publication: takedown listed")

    def _story(self, spec: DemoConsent, subject: Subject, record: ConsentRecord) -> None:
        campaign = self.campaigns["heart"]
        post = post_create(
            actor=self.users["editor"],
            campaign=campaign,
            data={
                "title": f"Patientengeschichte: {spec.name}",
                "body": f"{spec.name} erzählt, wie es nach der Herz-OP weiterging: „Nach drei Wochen Reha "
                "bin ich wieder die Treppe zu unserer Wohnung im 4. Stock hochgekommen.“ ❤️",
                "content_type": ContentType.PATIENT_STORY,
                "language": "de",
                "sources": "",
            },
            targets=[TargetSpec(account=self.accounts["klinikum.nord"])],
            featured=[FeatureSpec(subject=subject, consent=record, media_kinds=("name", "story"))],
            scheduled_at=_planned(8, dt.time(11, 0), BERLIN),
            time_zone=BERLIN,
            external_id=f"demo-{spec.story}",
        )
        if spec.state == "revoked_after_publication":
            self._review(post, approvals=None)
            self.going_live.append((post, LIVE))
        else:
            self._schedule(post, DEMO_POSTS[0])

    def _withdraw(self, post: Post, spec: DemoPost) -> None:
        post_withdraw(post=post, actor=self.users["editor"], reason="event cancelled")

    def _withdraw_scheduled(self, post: Post, spec: DemoPost) -> None:
        self._schedule(post, spec)
        post_withdraw(post=post, actor=self.users["editor"], reason="speaker ill, webinar postponed")

    def _approve_for_publishing(self, post: Post, spec: DemoPost) -> None:
        # A crisis post goes through the expedited chain: Legal reviews it after publishing.
        self._review(post, approvals=None)

    def _approve_then_reject_after_publication(self, post: Post, spec: DemoPost) -> None:
        self._review(post, approvals=None)
        self.after_publishing.append(functools.partial(self._reject_after_publication, post, spec))

    def _approve_then_date_back(self, post: Post, spec: DemoPost) -> None:
        self._review(post, approvals=None)
        self.after_publishing.append(functools.partial(self._date_approval_back, post, spec, months=13))

    def _approve_then_withdraw_at_recertification(self, post: Post, spec: DemoPost) -> None:
        self._review(post, approvals=None)
        self.after_publishing.append(functools.partial(self._date_approval_back, post, spec, months=13))
        self.after_publishing.append(functools.partial(self._withdraw_at_recertification, post, spec))

    def _withdraw_at_recertification(self, post: Post, spec: DemoPost) -> None:
        """Medical answers the re-certification of an outdated post with "Withdraw": its live target is listed."""
        recertification_record(post_id=post.pk, reviewer=self.users["medical"], outcome="withdraw", reason=spec.comment)
        self.write(f"post {spec.external_id}: withdrawn at re-certification")

    def _approve_long_ago(self, post: Post, spec: DemoPost) -> None:
        self._review(post, approvals=None)
        self._date_approval_back(post, spec, days=APPROVAL_VALID_DAYS - 5)

    def _date_approval_back(self, post: Post, spec: DemoPost, *, months: int = 0, days: int = 0) -> None:
        """Make the post's approval as old as a demo of expiry needs: its round's finish moved back.

        Demo data only (no service moves time): the review happened, just not today.
        """
        when = months_add(timezone.now(), -months) - dt.timedelta(days=days)
        ReviewRound.objects.filter(post=post, status=RoundStatus.APPROVED).update(finished_at=when)
        recertification_due_refresh(post_ids=[post.pk])
        self.write(f"post {spec.external_id}: approved on {timezone.localtime(when):%Y-%m-%d}")

    def _reject_after_publication(self, post: Post, spec: DemoPost) -> None:
        """Legal rejects the crisis post it reviews after publication: each live target is listed for takedown."""
        run = next((run for run in open_stage_runs(post=post) if run.stage.after_publication), None)
        if run is None:
            raise CommandError(f"{spec.external_id}: no stage after publication is open.")
        decision_record(
            stage_run=run, reviewer=self._reviewer(run.stage.group.name), verdict="reject", comment=spec.comment
        )
        post.refresh_from_db()
        self.write(f"post {spec.external_id}: rejected by {run.stage.name} after publication ({post.status})")

    # Publishing -----------------------------------------------------------------------------

    def seed_publishing(self) -> None:
        """Send the approved posts of this run through the real path, each due a moment after it is scheduled.

        Each is moved to a moment just ahead and scheduled; the dispatcher's claim takes them
        within its lookahead and the send task waits for the due time, checks every gate and
        calls the connector. One claim is left for a worker that never comes (its lease runs
        out and the dispatcher of ``make run`` sends it). One is taken by a worker that marks it
        sent, as it does right before the call, and dies there: its outcome is unknown. One is
        scheduled after the claim and met by a dispatcher pass that comes more than the cutoff
        late: overdue. A post still in review is moved to the same moment: when it passes, the
        post is overdue.
        """
        if not self.going_live:
            return
        # Each post is due a moment after its own move: under load, moving and scheduling several
        # posts can take longer than a shared lead, and a post due in the past cannot be scheduled.
        dues = []
        for post, state in self.going_live:
            if state != LIVE_OVERDUE:  # that one is scheduled after the claim
                dues.append(timezone.now() + LIVE_LEAD)
                self._move(post, dues[-1], schedule=state not in IN_REVIEW_AT_TIME)
        due = max(dues, default=timezone.now())
        old_page = self.accounts[OLD_PAGE]
        if any(state == LIVE_ACCOUNT_OFF for _post, state in self.going_live) and old_page.active:
            old_page.active = False
            account_save(account=old_page, actor=self.users["governance"])
        claims = publications_claim_due(lookahead=(due - timezone.now() + LIVE_SLACK).total_seconds())
        waiting, dying = self._publication_ids(LIVE_CLAIMED), self._publication_ids(LIVE_SENT)
        self._late()
        sending = [claim for claim in claims if claim.publication_id not in waiting | dying]
        if sending:
            publications_send([claim.publication_id for claim in sending], sending[0].token)
        killed = [claim for claim in claims if claim.publication_id in dying]
        if killed:
            # What the send task does at the due second before it calls the connector; its worker
            # is killed right after, so no call and no answer: "sent" until the lease runs out.
            _prepare_group(publication_ids=[claim.publication_id for claim in killed], token=killed[0].token)
        _sleep_until(due)  # the post in review is past its time
        for post, state in self.going_live:
            post.refresh_from_db()
            if state in IN_REVIEW_AT_TIME:
                overdue = " overdue" if post_is_overdue(post) else ""
                self.write(f"post {post.external_id}: {post.status}{self._stage_note(post)}{overdue}")
                continue
            publications = ", ".join(
                f"{publication.account.handle} {publication.status}"
                for publication in post.publications.select_related("account").order_by("pk")
            )
            self.write(f"post {post.external_id}: {post.status} ({publications})")
        if any(state == IN_REVIEW_ESCALATED for _post, state in self.going_live):
            with transaction.atomic():
                sent = overdue_remind()
            self.write(f"overdue stages reminded and escalated to deputies ({sent} mails)")
        for step in self.after_publishing:
            step()

    # Notices --------------------------------------------------------------------------------

    def seed_notices(self) -> None:
        """Deliver the notices of this run's posts now (the task cluster finds them done); older ones read."""
        if not self.new_posts:
            return
        sent = notices_deliver(posts=self.new_posts)
        users = [self.users[name] for name in ("editor", "medical", "legal", "comms", "governance")]
        read = notices_read_older(users=users, keep_unread=NOTICES_UNREAD)
        self.write(f"notices delivered ({sent} mails), {read} of them marked read")

    def _move(self, post: Post, when: dt.datetime, *, schedule: bool) -> None:
        editor = self.users["editor"]
        try:
            post_move(post=post, actor=editor, scheduled_at=when)
            if schedule:
                post_schedule(post=post, actor=editor)
        except (ValidationError, PermissionDenied) as exc:
            problems = "; ".join(getattr(exc, "messages", None) or [str(exc)])
            raise CommandError(f"{post.external_id} cannot be scheduled: {problems}") from exc

    def _publication_ids(self, state: str) -> set[int]:
        posts = [post for post, post_state in self.going_live if post_state == state]
        return set(Publication.objects.filter(post__in=posts).values_list("pk", flat=True))

    def _late(self) -> None:
        """Schedule the late posts just ahead and run the dispatcher's overdue pass as if it came late.

        A first attempt is overdue once the dispatcher meets it more than the cutoff after its
        due time (the dispatcher was down). Nothing waits an hour here: the pass is told the time
        it would be then. Only publications due before that moment are flagged: these, and
        whatever was already that late.
        """
        late = [post for post, state in self.going_live if state == LIVE_OVERDUE]
        if not late:
            return
        dues = []
        for post in late:
            dues.append(timezone.now() + LIVE_LEAD)
            self._move(post, dues[-1], schedule=True)
        cutoff = dt.timedelta(minutes=settings.ROUNDS_PUBLISH_CUTOFF_MINUTES)
        publications_flag_overdue(now=max(dues) + cutoff + dt.timedelta(seconds=1))

    def _schedule(self, post: Post, spec: DemoPost) -> None:
        self._review(post, approvals=None)
        post_schedule(post=post, actor=self.users["editor"])

    # Evidence -------------------------------------------------------------------------------

    def seed_evidence(self) -> None:
        """A finished compliance archive of the flu campaign (run here, not by the task cluster) and a
        retention purge that removes one old signed form and keeps one under a legal hold."""
        campaign = self.campaigns["flu"]
        job = ArchiveJob.objects.filter(campaign=campaign, status=ArchiveStatus.DONE).first()
        state = "exists"
        if job is None:
            job = archive_request(actor=self.users["governance"], campaign=campaign)
            archive_run(job_id=job.pk)  # the queued task finds it done and leaves it
            job.refresh_from_db()
            state = f"{job.status}, {job.done} posts"
        self.write(f"compliance archive of {campaign.name}: {state}")
        report = PurgeReport.objects.filter(dry_run=False).exclude(purged=[]).first()
        state = "exists"
        if report is None:
            report = retention_purge(actor=ACTOR)
            state = f"{len(report.purged)} purged, {len(report.held)} kept under a hold"
        self.write(f"retention purge: {state}")

    # Imported plan ---------------------------------------------------------------------------

    def seed_tips(self) -> None:
        """The editor's evergreen tips, imported as a plan file through the plan import (drafts)."""
        if Campaign.objects.filter(name=TIPS_CAMPAIGN).exists():
            self.write(f"campaign {TIPS_CAMPAIGN}: exists")
            return
        editor = self.users["editor"]
        try:
            with transaction.atomic():
                preview = plan_commit(data=tips_plan(timezone.now()), file_name=TIPS_FILE, actor=editor)
                # The import made the campaign with the editor alone; she describes it and names its reviewers.
                campaign_update(
                    campaign=Campaign.objects.get(name=TIPS_CAMPAIGN),
                    actor=editor,
                    data={"goal": TIPS_GOAL, "colour": TIPS_COLOUR, "hashtags": ["Gesundheitstipp", "HealthTip"]},
                    reviewers=[self.users[name] for name in CAMPAIGN_REVIEWERS],
                )
        except PlanInvalid as exc:
            problems = "; ".join(error.line() for error in exc.preview.errors)
            raise CommandError(f"{TIPS_FILE} cannot be imported: {problems}") from exc
        self.write(f"campaign {TIPS_CAMPAIGN}: imported {preview.counts[CREATED]} posts from {TIPS_FILE}")


def tips_plan(now: dt.datetime) -> bytes:
    """Return the tips as a plan CSV, dated from ``now`` on: a busy day, the rest of this month, next month."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for number, (day, at, pair) in enumerate(zip(*_tips_days(now), DEMO_TIPS, strict=True), start=1):
        for language, body in zip(("de", "en"), pair, strict=True):
            account, zone = TIPS_ACCOUNTS[language]
            title = f"Gesundheitstipp {number}" if language == "de" else f"Health tip {number}"
            row = {
                "campaign": TIPS_CAMPAIGN,
                "date": day.isoformat(),
                # The English tip goes out in New York six hours later by the clock: the same day for both.
                "time": at.strftime("%H:%M"),
                "timezone": zone,
                "accounts": account,
                "title": title,
                "body": body,
                "hashtags": "Gesundheitstipp" if language == "de" else "HealthTip",
                "content_type": ContentType.EDUCATION,
                "language": language,
                "external_id": f"demo-tip-{number:02d}-{language}",
            }
            writer.writerow([row.get(column, "") for column in COLUMNS])
    return out.getvalue().encode()


def _tips_days(now: dt.datetime) -> tuple[list[dt.date], list[dt.time]]:
    """Return each tip's day and time: the busy day's, then this month's, then next month's.

    The busy day is two days ahead (a plan may not date a row in the past), kept in this month; on a
    month's last day it is tomorrow, in the next month, whose cell then shows "+N more".
    """
    today = timezone.localdate(now, timezone=zoneinfo.ZoneInfo(BERLIN))
    month_end = _next_month_end(today).replace(day=1) - dt.timedelta(days=1)
    busy = max(min(today + dt.timedelta(days=2), month_end), today + dt.timedelta(days=1))
    after = [busy + dt.timedelta(days=n) for n in range(1, (month_end - busy).days + 1)] or [busy]
    next_month = _month_start(month_end + dt.timedelta(days=1))
    days = [busy] * TIPS_BUSY_DAY
    days += [after[n % len(after)] for n in range(TIPS_THIS_MONTH)]
    days += [next_month + dt.timedelta(days=2 * n) for n in range(len(DEMO_TIPS) - len(days))]
    times = [TIPS_TIMES[n % len(TIPS_TIMES)] for n in range(len(DEMO_TIPS))]
    return days, times


def _sleep_until(when: dt.datetime) -> None:
    left = (when - timezone.now()).total_seconds()
    if left > 0:
        time.sleep(left)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month_end(day: dt.date) -> dt.date:
    after_next = (_month_start(day) + dt.timedelta(days=62)).replace(day=1)
    return after_next - dt.timedelta(days=1)


def _planned(offset: int, at: dt.time, zone_name: str) -> dt.datetime:
    """Return today + offset days at ``at`` in the zone, kept within this and next month."""
    zone = zoneinfo.ZoneInfo(zone_name)
    today = timezone.localdate(timezone=zone)
    day = min(max(today + dt.timedelta(days=offset), _month_start(today)), _next_month_end(today))
    return dt.datetime.combine(day, at, tzinfo=zone)


DEMO_EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


class Command(BaseCommand):
    help = "Create demo users, accounts, campaigns and posts in every state (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        seeder = DemoSeeder(write=self.stdout.write, password=os.environ.get(PASSWORD_ENV) or None)
        # The demo's people have invented addresses: the mails seeding sends directly (reminders,
        # notices) are kept in the ledger and as in-app notices, never handed to a mail server.
        with override_settings(EMAIL_BACKEND=DEMO_EMAIL_BACKEND):
            seeder.run()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
