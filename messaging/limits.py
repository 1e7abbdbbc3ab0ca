"""What OpenPhone allows, in one place: the settings, the models and the forms all read these.

A plain module (no Django imports), so the settings can check the environment against it."""

# One text's content (openphone-openapi-v1.json, sendMessage_v1: content maxLength 1600).
MAX_TEXT_LENGTH = 1600
# A registered (A2P 10DLC) business number can send about 6,000 segments a day; more is refused.
MAX_TEXTS_PER_NUMBER_PER_DAY = 6000
