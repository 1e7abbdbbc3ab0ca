import io

from messaging.backends import get_backend
from messaging.backends.console import SMSBackend as ConsoleBackend


def test_the_tests_use_the_in_memory_backend(_sms_outbox):
    external_id = get_backend().send(from_number="+16175550100", to_number="+16175550123", body="Hi Mary")

    assert [(sms.to_number, sms.body, sms.external_id) for sms in _sms_outbox] == [
        ("+16175550123", "Hi Mary", external_id)
    ]


def test_the_console_backend_writes_the_text_and_invents_an_id():
    stream = io.StringIO()

    sent_id = ConsoleBackend(stream=stream).send(from_number="+16175550100", to_number="+16175550123", body="Hi Mary")

    written = stream.getvalue()
    assert sent_id in written
    assert "To: +16175550123" in written
    assert "Hi Mary" in written
