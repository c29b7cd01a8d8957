"""Use cases of phone confirmation: send a code, confirm it.

Sending writes the request and hands the text to the SMS provider in one transaction: a provider that refuses
leaves nothing stored (503, the citizen may ask again at once). Confirming counts a wrong code with a guarded
UPDATE, so the third wrong code locks the request whatever arrives concurrently.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, NotFound, Unavailable
from gridgov_notification.channels.base import DeliveryError
from gridgov_notification.channels.sms import SmsProvider
from gridgov_notification.phones import rules, service
from gridgov_notification.phones.models import PhoneCode
from gridgov_notification.phones.schemas import PhoneCodeConfirm, PhoneCodeCreate, PhoneCodeSent, PhoneConfirmed
from gridgov_notification.settings import NotificationSettings

log = logging.getLogger(__name__)


def _unknown(request_id: str) -> NotFound:
    error = NotFound("request_id", request_id)
    error.message_zh = "验证码请求不存在"
    error.details = [ErrorDetail("request_id", "not found", "验证码请求不存在或已过期，请重新获取验证码")]
    return error


class PhoneCodes:
    """Sends and confirms phone codes with one SMS provider and one hashing key."""

    def __init__(self, db: Database, provider: SmsProvider, key: bytes, settings: NotificationSettings, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 code: Callable[[], str] = rules.new_code):
        self.db = db
        self.provider = provider
        self.key = key
        self.settings = settings
        self.clock = clock
        self.code = code

    def send(self, body: PhoneCodeCreate) -> PhoneCodeSent:
        """Send a code to the phone, within the rate limits (429 naming ``phone``, ``client_id`` or ``channel``)."""
        s = self.settings
        phone = rules.normalise_phone(body.phone)
        key = rules.phone_key(self.key, phone)
        now = self.clock()
        window = timedelta(seconds=s.phone_code_window_s)
        with self.db.session() as session:
            service.purge_before(session, now - max(window, timedelta(seconds=s.phone_code_ttl_s)))
            rules.check_rate(
                now=now, phone_times=service.times_since(session, now - window, phone_key=key),
                client_times=service.times_since(session, now - window, client_id=body.client_id),
                all_times=service.times_since(session, now - timedelta(minutes=1),
                                              limit=s.phone_code_global_per_minute + 1),
                resend_after=timedelta(seconds=s.phone_code_resend_s), phone_limit=s.phone_code_phone_limit,
                client_limit=s.phone_code_client_limit, window=window,
                global_per_minute=s.phone_code_global_per_minute)
            request_id, code = str(uuid.uuid4()), self.code()
            expires_at = now + timedelta(seconds=s.phone_code_ttl_s)
            session.add(PhoneCode(id=request_id, phone_key=key, client_id=body.client_id,
                                  code_hash=rules.code_hash(self.key, request_id, code), created_at=now,
                                  expires_at=expires_at))
            session.flush()
            try:
                self.provider.send_sms(request_id, phone, rules.sms_text(code, s.phone_code_ttl_s))
            except DeliveryError as exc:
                session.rollback()
                log.warning("phone code %s not sent: %s", request_id, exc)
                error = Unavailable("the SMS provider did not take the code; try again", retry_after=5)
                error.message_zh = "短信发送失败，请稍后重试"
                raise error from exc
            session.commit()
        log.info("phone code %s sent to %s", request_id, rules.mask_phone(phone))
        return PhoneCodeSent(id=request_id, phone_masked=rules.mask_phone(phone), expires_at=expires_at,
                             resend_after_s=s.phone_code_resend_s, max_attempts=s.phone_code_max_attempts)

    def confirm(self, request_id: str, body: PhoneCodeConfirm) -> PhoneConfirmed:
        """Confirm the code once: 404 unknown request, 422 wrong code (or another phone), 409 used or locked after
        the maximum of wrong codes, 410 expired. A wrong code is counted; nothing else is written."""
        maximum = self.settings.phone_code_max_attempts
        phone = rules.normalise_phone(body.phone)
        now = self.clock()
        with self.db.session() as session:
            request = service.get(session, request_id)
            if request is None:
                raise _unknown(request_id)
            rules.check_open(confirmed_at=request.confirmed_at, attempts=request.attempts, max_attempts=maximum,
                             expires_at=request.expires_at, now=now)
            right_phone = rules.phone_key(self.key, phone) == request.phone_key
            if right_phone and rules.code_matches(self.key, request_id, body.code.strip(), request.code_hash):
                if not service.confirm(session, request_id, now, maximum):
                    session.rollback()
                    raise rules.locked(maximum)  # a concurrent wrong try locked it, or it was used meanwhile
                session.commit()
                log.info("phone code %s confirmed", request_id)
                return PhoneConfirmed(id=request_id, phone=phone, confirmed_at=now)
            # Another phone counts as a wrong try too: otherwise trying phones would be a free oracle.
            attempts = service.count_wrong(session, request_id, maximum)
            session.commit()
        if attempts is None:
            raise rules.locked(maximum)
        log.info("phone code %s: wrong try %d of %d", request_id, attempts, maximum)
        if not right_phone and attempts < maximum:
            raise rules.wrong_phone()
        raise rules.wrong_code(attempts, maximum)
