"""A cached session is served only to the identity and endpoint that made it (issue 11, section 3).

Each test changes one thing that decided a cached session -- the root's keys in the
credentials file, the keys stored with ``assumer add``, the profile's endpoint -- and
checks at the recording proxy that the next ``env`` was signed by the new key (or did
not get the old session at all). The released version served the old session in
every case. ``clear`` of a profile that shares its cache key with another is here too.
"""

from __future__ import annotations

import json

from tests.tools.awshome import AwsHome
from tests.tools.moto_server import Keys
from tests.tools.net import free_port
from tests.tools.secret_service import keyring_items


def session(aws_home: AwsHome, profile: str = "r", **kwargs) -> dict[str, str]:
    result = aws_home.run(["env", profile, "--shell", "json"], **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def use_file_keys(aws_home: AwsHome, keys: Keys) -> None:
    """Replace the keys of profile u in ~/.aws/credentials, as a user editing the file would."""
    text = aws_home.credentials_file.read_text()
    old = aws_home.world.u
    aws_home.credentials_file.write_text(
        text.replace(old.access_key_id, keys.access_key_id).replace(old.secret_access_key, keys.secret_access_key))


def add(aws_home: AwsHome, keys: Keys) -> None:
    result = aws_home.run(["add", "u"], input=f"{keys.access_key_id}\n{keys.secret_access_key}\n")
    assert result.returncode == 0, result.stderr


def signers(aws_home: AwsHome, action: str) -> list[str | None]:
    return [record.access_key_id for record in aws_home.proxy.requests(action)]


def test_session_token_follows_the_keys_of_the_credentials_file(aws_home: AwsHome) -> None:
    """Another principal's keys in the file: the next GetSessionToken is signed by them.

    ADMIN may call GetSessionToken and WIDE may not, so WIDE must get moto's denial,
    never ADMIN's cached session.
    """
    world = aws_home.world
    aws_home.add_keys("t", world.admin)
    first = session(aws_home, "t")
    assert session(aws_home, "t") == first  # unchanged keys: served from the cache
    assert signers(aws_home, "GetSessionToken") == [world.admin.access_key_id]
    text = aws_home.credentials_file.read_text()
    aws_home.credentials_file.write_text(text.replace(world.admin.access_key_id, world.wide.access_key_id)
                                         .replace(world.admin.secret_access_key, world.wide.secret_access_key))
    result = aws_home.run(["env", "t"])
    assert result.returncode == 4, result.stderr
    assert result.stdout == ""
    assert first["AWS_SECRET_ACCESS_KEY"] not in result.stdout + result.stderr
    assert signers(aws_home, "GetSessionToken") == [world.admin.access_key_id, world.wide.access_key_id]


def test_role_session_follows_rotated_keys_in_the_credentials_file(aws_home: AwsHome) -> None:
    world = aws_home.world
    session(aws_home)
    use_file_keys(aws_home, world.u_second)
    session(aws_home)
    assert signers(aws_home, "AssumeRole") == [world.u.access_key_id, world.u_second.access_key_id]


def test_environment_root_follows_the_exported_keys(aws_home: AwsHome) -> None:
    world = aws_home.world
    aws_home.add_config(f"[profile renv]\nrole_arn = {world.role_r}\ncredential_source = Environment\n"
                        "region = ap-northeast-1\n")
    for keys in (world.u, world.u_second):
        session(aws_home, "renv", env_extra={"AWS_ACCESS_KEY_ID": keys.access_key_id,
                                             "AWS_SECRET_ACCESS_KEY": keys.secret_access_key})
    assert signers(aws_home, "AssumeRole") == [world.u.access_key_id, world.u_second.access_key_id]


def test_add_and_remove_clear_the_sessions_made_from_the_previous_keys(aws_home: AwsHome) -> None:
    """``add u`` with rotated keys, then ``remove u``: each time the next r and r2 are signed by the new keys."""
    world = aws_home.world
    session(aws_home, "r2")  # r2 chains from r, which is assumed with u's keys (the credentials file)
    assert signers(aws_home, "AssumeRole")[0] == world.u.access_key_id
    add(aws_home, world.u_second)
    session(aws_home, "r2")
    assert signers(aws_home, "AssumeRole")[2] == world.u_second.access_key_id
    assert aws_home.proxy.count("AssumeRole") == 4
    result = aws_home.run(["remove", "u"])
    assert result.returncode == 0, result.stderr
    session(aws_home, "r")
    assert signers(aws_home, "AssumeRole")[4:] == [world.u.access_key_id]


def test_add_keeps_the_sessions_of_other_roots(aws_home: AwsHome) -> None:
    aws_home.add_keys("w", aws_home.world.wide)
    aws_home.add_role_profile("rw", "external_id = xyz", role=aws_home.world.role_rext, source="w")
    session(aws_home, "rw")
    add(aws_home, aws_home.world.u_second)
    session(aws_home, "rw")
    assert aws_home.proxy.count("AssumeRole") == 1


def test_a_profile_with_another_endpoint_url_does_not_get_the_cached_session(aws_home: AwsHome) -> None:
    """r and rdead differ only in endpoint_url; rdead's endpoint is closed, so it must fail, not hit r's session."""
    no_global = {"AWS_ENDPOINT_URL": None}
    aws_home.add_role_profile("rhere", f"endpoint_url = {aws_home.proxy.url}")
    aws_home.add_role_profile("rdead", f"endpoint_url = http://127.0.0.1:{free_port()}")
    session(aws_home, "rhere", env_extra=no_global)
    assert aws_home.proxy.count("AssumeRole") == 1
    result = aws_home.run(["env", "rdead"], env_extra=no_global)
    assert result.returncode == 6, result.stderr
    assert result.stdout == ""
    assert "cannot reach the endpoint" in result.stderr


def test_a_profile_with_another_services_endpoint_does_not_get_the_cached_session(aws_home: AwsHome) -> None:
    """botocore's ``services`` sections: rhere's sts endpoint is the proxy, rdead's is closed."""
    no_global = {"AWS_ENDPOINT_URL": None}  # it outranks a services section
    aws_home.add_role_profile("rhere", "services = here")
    aws_home.add_role_profile("rdead", "services = dead")
    aws_home.add_config(f"[services here]\nsts =\n  endpoint_url = {aws_home.proxy.url}\n\n"
                        f"[services dead]\nsts =\n  endpoint_url = http://127.0.0.1:{free_port()}\n")
    session(aws_home, "rhere", env_extra=no_global)
    assert aws_home.proxy.count("AssumeRole") == 1
    result = aws_home.run(["env", "rdead"], env_extra=no_global)
    assert result.returncode == 6, result.stderr
    assert result.stdout == ""


def test_clear_reaches_a_session_another_profile_with_the_same_settings_cached(aws_home: AwsHome) -> None:
    """rcopy has r's settings, so they share one cached session; ``clear rcopy`` must remove it."""
    aws_home.add_role_profile("rcopy")
    session(aws_home, "r")
    session(aws_home, "rcopy")  # a hit on r's session
    assert aws_home.proxy.count("AssumeRole") == 1
    result = aws_home.run(["clear", "rcopy"])
    assert result.returncode == 0, result.stderr
    assert keyring_items("assumer") == []
    session(aws_home, "rcopy")
    assert aws_home.proxy.count("AssumeRole") == 2


def test_clear_names_every_profile_that_shared_the_session(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rcopy")
    session(aws_home, "r")
    assert aws_home.run(["env", "rcopy", "--refresh"]).returncode == 0  # a miss: both now listed in the index
    result = aws_home.run(["clear", "r"])
    assert result.returncode == 0, result.stderr
    assert "r, rcopy" in result.stderr
    listing = aws_home.run(["list"]).stdout
    assert all(line.split()[-1] == "-" for line in listing.splitlines()[1:]), listing
