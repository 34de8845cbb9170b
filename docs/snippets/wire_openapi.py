from backendkit.responses import CursorPageEnvelope, Envelope, ErrorEnvelope, PageEnvelope
from backendkit.validation import ApiModel


class UserOut(ApiModel):
    id: int
    first_name: str


# Each parametrized envelope is a real class with a clean name, so OpenAPI
# shows "UserOutEnvelope", not "Envelope_UserOut_".
assert Envelope[UserOut].__name__ == "UserOutEnvelope"
assert PageEnvelope[UserOut].__name__ == "UserOutPageEnvelope"
assert CursorPageEnvelope[UserOut].__name__ == "UserOutCursorPageEnvelope"
assert Envelope[list[UserOut]].__name__ == "UserOutListEnvelope"

schema = Envelope[UserOut].model_json_schema(mode="serialization")
assert schema["title"] == "UserOutEnvelope"
assert set(schema["required"]) == {"success", "data", "message"}
assert ErrorEnvelope.model_json_schema()["title"] == "ErrorEnvelope"
