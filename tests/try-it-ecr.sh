# ECR part of tests/try-it.sh (sourced by it; see the HOOK there for what it provides).
#
# When podman, docker-registry, htpasswd and openssl are installed, starts on
# 127.0.0.1 a TLS registry whose only login is moto's ECR token and a podman
# service that the docker CLI (or podman itself) drives, then shows `assumer policy`,
# ecr-push (timed), the credential helper with skopeo, that no file holds the
# registry password, and last ecr-login (whose login the engine keeps). The test
# registry is not ECR, so every command that sends it the token names
# --allow-non-ecr-registry, as a user of a mirror or an emulator would.

ecr_missing=()
for tool in podman docker-registry htpasswd openssl skopeo; do
    command -v "$tool" >/dev/null || ecr_missing+=("$tool")
done
if [ "${#ecr_missing[@]}" -gt 0 ]; then
    heading "ECR: skipped (not installed: ${ecr_missing[*]})"
else
    heading "ECR: the IAM documents for U and R (assumer policy --repository app)"
    show assumer policy --account "$(jq -r .account "$WORK/world.json")" --repository app

    python -m tests.tools.engine --world "$WORK/world.json" --dir "$WORK/ecr" --ready "$WORK/ecr.json" \
        > "$WORK/ecr.log" 2>&1 &
    ECR_PID=$!
    at_exit "kill $ECR_PID 2>/dev/null; wait $ECR_PID 2>/dev/null"
    wait_for "$WORK/ecr.json" "$ECR_PID"
    REGISTRY=$(jq -r .registry "$WORK/ecr.json")
    DOCKER_HOST=$(jq -r .docker_host "$WORK/ecr.json")
    CONTAINERS_STORAGE_CONF=$(jq -r .storage_conf "$WORK/ecr.json")
    export DOCKER_HOST CONTAINERS_STORAGE_CONF
    ENGINE=podman
    command -v docker >/dev/null && ENGINE=docker
    echo "registry: https://$REGISTRY (TLS, htpasswd: AWS / moto's token); engine: $ENGINE via $DOCKER_HOST"

    heading "assumer ecr-push r localhost/app:latest --tag v1   (credentials scoped to this push)"
    printf '$ %s\n' "assumer ecr-push r localhost/app:latest --registry $REGISTRY --allow-non-ecr-registry --tag v1 --engine $ENGINE"
    time (assumer ecr-push r localhost/app:latest --registry "$REGISTRY" --allow-non-ecr-registry --tag v1 --engine "$ENGINE" \
        2> "$WORK/push.err" > "$WORK/push.out") || { cat "$WORK/push.err" >&2; exit 1; }
    echo "stdout: $(cat "$WORK/push.out")"

    heading "again with a real token expiry (moto's expired in 2015): the token is cached, no AWS call"
    python -c 'import sys; from tests.tools.recording_proxy import ProxyClient
ProxyClient(sys.argv[1]).set_ecr_expiry(12 * 3600)' "$PROXY_URL"
    assumer ecr-push r localhost/app:latest --registry "$REGISTRY" --allow-non-ecr-registry --tag v2 --engine "$ENGINE" >/dev/null 2>&1
    before=$(proxy_count GetAuthorizationToken)
    printf '$ %s\n' "assumer ecr-push r localhost/app:latest --registry $REGISTRY --allow-non-ecr-registry --tag v3 --engine $ENGINE"
    time (assumer ecr-push r localhost/app:latest --registry "$REGISTRY" --allow-non-ecr-registry --tag v3 --engine "$ENGINE" 2>/dev/null)
    after=$(proxy_count GetAuthorizationToken)
    echo "GetAuthorizationToken calls: $before before, $after after the push"
    [ "$before" = "$after" ] || { say "the token was not served from the keyring"; exit 1; }

    heading "docker-credential-assumer for other clients: ecr-helper configure, then skopeo"
    show assumer ecr-helper configure r --registry "$REGISTRY" --allow-non-ecr-registry
    show skopeo list-tags "docker://$REGISTRY/app"

    heading "no file under \$HOME or $WORK holds the registry password (plain or base64)"
    password="$(jq -r .account "$WORK/world.json")-auth-token"
    encoded=$(printf 'AWS:%s' "$password" | base64)
    if grep -rlF -e "$password" -e "$encoded" "$HOME" "$WORK" 2>/dev/null | grep -v '/.local/share/keyrings/'; then
        say "the registry password was written to the files above"; exit 1
    fi
    echo "none"

    heading "assumer ecr-login r --registry $REGISTRY --allow-non-ecr-registry   (password on the engine's stdin)"
    show assumer ecr-login r --registry "$REGISTRY" --allow-non-ecr-registry --engine "$ENGINE"
    # The helper configured above takes docker's login (its 'store' keeps nothing); without
    # it, the engine keeps the login in its own config, as 'docker login' always does.
    if grep -rlF -e "$password" -e "$encoded" "$HOME" 2>/dev/null | grep -v '/.local/share/keyrings/'; then
        echo "(the engine keeps that login itself: '$ENGINE logout $REGISTRY' removes it)"
    else
        echo "the engine handed the login to docker-credential-assumer: still no password in a file"
    fi
fi
