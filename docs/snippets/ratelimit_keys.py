from backendkit.clientip import ClientIPResolver
from backendkit.ratelimit import first_key, ip_key, key_from, user_key

# Only your own load balancers (addresses or CIDR networks) are believed.
resolver = ClientIPResolver(["10.0.0.0/8"])  # or ClientIPResolver.from_settings(settings)

# Behind the balancer 10.0.0.2, which appends the address it saw to X-Forwarded-For.
assert resolver.client_ip("10.0.0.2", "198.51.100.23") == "198.51.100.23"
# A client who forges the header only adds entries on the left: ignored.
assert resolver.client_ip("10.0.0.2", "1.2.3.4, 198.51.100.23") == "198.51.100.23"
# A direct connection from outside: its header is not believed at all.
assert resolver.client_ip("203.0.113.9", "1.2.3.4") == "203.0.113.9"

# RFC 7239 Forwarded instead, if that is what your proxies write (only one is read).
forwarded = ClientIPResolver(["10.0.0.0/8"], header="forwarded")
assert forwarded.client_ip("10.0.0.2", 'for="[2001:db8:cafe::17]:4711"') == "2001:db8:cafe::17"

# Keys: IPv6 clients are grouped by /64, the block one subscriber usually gets.
assert resolver.client_key("2001:db8:cafe:1:aaaa::1") == "2001:db8:cafe:1::/64"
assert ip_key(resolver.client_ip("10.0.0.2", "198.51.100.23")) == "ip:198.51.100.23"
assert ip_key("2001:db8:cafe:1:aaaa::1") == "ip:2001:db8:cafe:1::/64"
assert user_key(42) == "user:42"


# Any callable, namespaced; the first key function that answers wins.
def api_token(request: dict[str, str]) -> str | None:
    return request.get("token")


by_token = key_from(api_token, namespace="token")
by_ip = key_from(lambda request: ip_key(request["ip"]), namespace="anon")
key_for = first_key(by_token, by_ip)
assert key_for({"token": "t-123", "ip": "198.51.100.23"}) == "token:t-123"
assert key_for({"ip": "198.51.100.23"}) == "anon:ip:198.51.100.23"
