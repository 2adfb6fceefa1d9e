"""The password policy: long enough, not guessable, not the username.

zxcvbn estimates how many guesses a password would take against common-password lists,
dictionaries, keyboard walks, repeats, dates and the words given as the user's own (username,
display name, the product's name); a score under 3 ("safely unguessable" needs >= 10^8 guesses)
is refused. Applied wherever a password is set: the admin API, the dashboard and the CLI.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from ..problems import invalid

MIN_SCORE = 3
# zxcvbn's matching is quadratic in the length; a long passphrase is judged by its start.
_CHECKED_CHARS = 100


def check_password(password: str, *, username: str, display_name: str = "", min_length: int = 10,
                   field: str = "password") -> None:
    """Raise a 422 naming ``field`` when the password breaks the policy."""
    if len(password) < min_length:
        raise invalid(field, f"must be at least {min_length} characters")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise invalid(field, "must not contain the username")
    result = zxcvbn(password[:_CHECKED_CHARS], user_inputs=[u for u in (username, display_name, "peacewatch") if u])
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        raise invalid(field, f"is too easy to guess ({hint.rstrip('.')}); use a longer passphrase")
