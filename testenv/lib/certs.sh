# shellcheck shell=bash
# Certificates for the testenv control plane, made with openssl at every start (cheap, EC P-256
# for TLS, RSA 2048 for the service-account signing key). Sourced by the apiserver component.
#
#   certs_generate DIR   writes into DIR: ca.{crt,key}, apiserver.{crt,key} (SANs: localhost,
#                        kubernetes.default.svc..., 127.0.0.1, the veth host address and the first
#                        service IP), admin.{crt,key} (O=system:masters),
#                        controller-manager.{crt,key} (CN=system:kube-controller-manager),
#                        scheduler.{crt,key} (CN=system:kube-scheduler),
#                        sa.{key,pub} (service-account token signing)

_cert_leaf() { # DIR NAME SUBJECT EXTENSIONS
    local dir=$1 name=$2 subj=$3 ext=$4
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key" 2>/dev/null
    openssl req -new -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
    printf '%s\n' "$ext" >"$dir/$name.ext"
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 365 -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
    rm -f "$dir/$name.csr" "$dir/$name.ext"
}

certs_generate() {
    local dir=$1 host_ip=${TESTENV_HOST_IP:-10.231.0.1} svc_ip=${TESTENV_SERVICE_IP:-10.232.0.1}
    command -v openssl >/dev/null || { echo "certs_generate: openssl is missing" >&2; return 1; }
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=echo-testenv-ca" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
        -out "$dir/ca.crt" 2>/dev/null
    _cert_leaf "$dir" apiserver "/CN=kube-apiserver" \
        "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$host_ip,IP:$svc_ip"
    _cert_leaf "$dir" admin "/O=system:masters/CN=echo-testenv-admin" \
        "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    _cert_leaf "$dir" controller-manager "/CN=system:kube-controller-manager" \
        "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    _cert_leaf "$dir" scheduler "/CN=system:kube-scheduler" \
        "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/sa.key" 2>/dev/null
    openssl pkey -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
    rm -f "$dir/ca.srl"
    chmod 600 "$dir"/*.key
}

# kubeconfig_write FILE SERVER CA CERT KEY USER: a kubeconfig with embedded certificate data
kubeconfig_write() {
    local file=$1 server=$2 ca=$3 cert=$4 key=$5 user=$6
    umask 077
    cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: echo-testenv
    cluster:
      server: $server
      certificate-authority-data: $(base64 -w0 "$ca")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 "$cert")
      client-key-data: $(base64 -w0 "$key")
contexts:
  - name: echo-testenv
    context:
      cluster: echo-testenv
      user: $user
current-context: echo-testenv
YAML
}
