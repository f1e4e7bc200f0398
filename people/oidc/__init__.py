"""allauth's OpenID Connect provider, made strict: it always checks the ID token's signature and nonce.

allauth skips the signature of an ID token that came straight from the token endpoint (OpenID
Connect Core 3.1.3.7 allows it over TLS) and sends no nonce. Rounds checks both, so a token endpoint
behind a misconfigured proxy, or a code replayed into another browser's session, signs nobody in.
"""
