import pytest

from gridgov_notification.channels import registered
from gridgov_notification.templates import TemplateBook, TemplateError

CHANNELS = ["inbox", "webhook", "email", "sms"]
DEFAULTS = "\n".join(f'[default.{c}]\nsubject = "$title"\nbody = "$body"\n' for c in CHANNELS)
CONTEXT = dict(title="新工单待签收", body="请签收", ticket_id="T-1", report_id="R-1", event_type="ticket.dispatched",
               category="自来水管破裂（04002）", place="网格 441900001001001", deadline="2024-05-01 17:00", note="",
               department="water", priority="", address="department:water")


def test_load_bundled_templates_covers_every_channel():
    book = TemplateBook.load(registered())
    for channel in registered():
        assert book.get("ticket.some_future_event", channel).name == f"default/{channel}"
    subject, body = book.get("ticket.dispatched", "email").render(CONTEXT)
    assert subject == "【一网统管】新工单待签收：自来水管破裂（04002）"
    assert "T-1" in body


def test_render_sms_template_for_event_type_has_no_subject():
    book = TemplateBook.load(registered())
    template = book.get("ticket.dispatched", "sms")
    subject, body = template.render(CONTEXT)
    assert template.name == "ticket.dispatched/sms"
    assert subject == "" and "2024-05-01 17:00" in body and body.startswith("【一网统管】")


def test_parse_template_with_unknown_placeholder_fails_naming_it():
    text = DEFAULTS + '\n["ticket.closed".sms]\nbody = "您的工单 $ticket_id 已办结，评分 $rating"\n'
    with pytest.raises(TemplateError, match=r"template ticket\.closed/sms: body has unknown placeholder\(s\) \$rating"):
        TemplateBook.parse(text, CHANNELS)


def test_parse_malformed_placeholder_fails_naming_the_template():
    text = DEFAULTS + '\n["ticket.warned".email]\nsubject = "预警 ${ticket_id"\nbody = "$body"\n'
    with pytest.raises(TemplateError, match=r"template ticket\.warned/email: subject has a malformed placeholder"):
        TemplateBook.parse(text, CHANNELS)


def test_parse_invalid_toml_fails_naming_the_file():
    with pytest.raises(TemplateError, match="templates messages.toml: not valid TOML"):
        TemplateBook.parse(DEFAULTS + "\n[default.sms\n", CHANNELS)


def test_parse_without_default_for_a_channel_fails():
    text = "\n".join(f'[default.{c}]\nbody = "$body"\n' for c in CHANNELS if c != "sms")
    with pytest.raises(TemplateError, match="no default template for channel.*sms"):
        TemplateBook.parse(text, CHANNELS)


def test_parse_unknown_channel_fails_naming_the_template():
    with pytest.raises(TemplateError, match=r"template default/fax: unknown channel"):
        TemplateBook.parse(DEFAULTS + '\n[default.fax]\nbody = "$body"\n', CHANNELS)


def test_render_dollar_sign_escaped_stays_literal():
    book = TemplateBook.parse(DEFAULTS + '\n["ticket.closed".sms]\nbody = "罚款 $$50，工单 $ticket_id"\n', CHANNELS)
    assert book.get("ticket.closed", "sms").render(CONTEXT)[1] == "罚款 $50，工单 T-1"
