from backendkit.errors import ValidationFailed
from backendkit.listing import CursorCodec, cursor_binding
from backendkit.settings import Settings

settings = Settings(env="test", secret_key=["a-long-random-secret-key"])
codec = CursorCodec.from_settings(settings)

# Bind the cursor to what the listing was made for: sort, filters, resource.
binding = cursor_binding(["-createdAt", "id"], {"role": "admin"}, scope="users")
token = codec.encode({"after": ["2024-05-01T12:00:00Z", 42]}, binding=binding)
assert codec.decode(token, binding=binding) == {"after": ["2024-05-01T12:00:00Z", 42]}

# Tampered, truncated or foreign cursors, or another sort/filter: one generic 400.
other = cursor_binding(["-createdAt", "id"], {"role": "user"}, scope="users")
refused = []
for bad, used_with in [(token[:-1], binding), (token + "A", binding), (token, other)]:
    try:
        codec.decode(bad, binding=used_with)
    except ValidationFailed as exc:
        refused.append(exc.details[0].field)
assert refused == ["cursor", "cursor", "cursor"]

# Key rotation: list the new secret first; cursors signed with the old one still decode.
rotated = Settings(env="test", secret_key=["a-brand-new-secret-key", "a-long-random-secret-key"])
assert CursorCodec.from_settings(rotated).decode(token, binding=binding)
