"""HTTP routes of phone confirmation (thin: parse, call a handler). No login: the code is the proof."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from gridgov_common.deps import Runtime
from gridgov_notification.phones.handlers import PhoneCodes
from gridgov_notification.phones.schemas import PhoneCodeConfirm, PhoneCodeCreate, PhoneCodeSent, PhoneConfirmed

router = APIRouter(prefix="/v1/phone-codes", tags=["phones"])



async def phone_codes(runtime: Runtime) -> PhoneCodes:
    """The runtime's phone-code sender (built with the SMS provider the settings name)."""
    return runtime.phones  # type: ignore[attr-defined] - a NotificationRuntime


Phones = Annotated[PhoneCodes, Depends(phone_codes)]
RequestId = Annotated[str, Path(min_length=1, max_length=36, description="the id POST /v1/phone-codes answered")]


@router.post("", response_model=PhoneCodeSent, status_code=status.HTTP_202_ACCEPTED,
             responses={429: {"description": "rate limited per phone, client or for everyone; see Retry-After"}})
def post_phone_code(body: PhoneCodeCreate, phones: Phones) -> PhoneCodeSent:
    """Send a six-digit code by SMS to a mobile number (the citizen's login, 手机验证码). Who: anyone, rate-limited:
    one code per phone per ``phone_code_resend_s``, ``phone_code_phone_limit`` per phone and
    ``phone_code_client_limit`` per client in ``phone_code_window_s``, ``phone_code_global_per_minute`` in all."""
    return phones.send(body)


@router.post("/{request_id}/confirm", response_model=PhoneConfirmed)
def post_phone_code_confirm(request_id: RequestId, body: PhoneCodeConfirm, phones: Phones) -> PhoneConfirmed:
    """Confirm the code the phone received. Who: anyone holding the request id; the third wrong code locks the
    request (409), an expired one is 410. The console's citizen login mints a token only on this answer."""
    return phones.confirm(request_id, body)
