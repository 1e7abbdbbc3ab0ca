"""OpenPhone as the suite knows it: its published API file, the contract check, where the fake answers."""

# Where the `openphone` fixture's fake answers; OPENPHONE_API_URL points here in tests.
FAKE_API_URL = "https://api.openphone.test"
