#!/bin/sh
# Install acd117's Asterisk configuration (see asterisk/README.md).
#
#   ACD117_ARI_PASSWORD=... ACD117_AMI_SECRET=... sudo -E ./asterisk/install.sh
#
# Environment:
#   ASTERISK_ETC            configuration directory (default /etc/asterisk)
#   ACD117_ARI_USER         ARI user (default acd117)      } the same variables the
#   ACD117_ARI_PASSWORD     ARI password                   } acd117 daemon reads
#   ACD117_AMI_USER         AMI user (default acd117)      }
#   ACD117_AMI_SECRET       AMI secret                     }
#   ACD117_AGENT_ENDPOINTS  agent phone endpoints to create, e.g. "1001 1002 1003";
#                           each gets a random password (listed once in
#                           acd117-secrets/agent-passwords.txt)
#   ACD117_REWRITE_SECRETS  yes: replace existing secret files (default: keep them)
#
# Secrets go to $ASTERISK_ETC/acd117-secrets/ (mode 0750/0640), site files to
# $ASTERISK_ETC/acd117-site/; neither is part of the repository. Files this script
# replaces are first copied to $ASTERISK_ETC/acd117-backup-<time>/.
set -eu

ETC=${ASTERISK_ETC:-/etc/asterisk}
SRC=$(cd "$(dirname "$0")" && pwd)
ARI_USER=${ACD117_ARI_USER:-acd117}
AMI_USER=${ACD117_AMI_USER:-acd117}
REWRITE=${ACD117_REWRITE_SECRETS:-no}
SECRETS="$ETC/acd117-secrets"
SITE="$ETC/acd117-site"

die() { echo "install.sh: $*" >&2; exit 1; }

# Passwords: at least 12 characters, upper and lower case and digits (the tenders ask
# for 8+ mixed); no characters that Asterisk's config syntax would cut (';', spaces).
check_secret() {
    name=$1 value=$2
    [ "${#value}" -ge 12 ] || die "$name must have at least 12 characters"
    case $value in *[!A-Za-z0-9._~@%+=:-]*) die "$name: use only letters, digits and ._~@%+=:-" ;; esac
    case $value in *[A-Z]*) ;; *) die "$name needs an upper-case letter" ;; esac
    case $value in *[a-z]*) ;; *) die "$name needs a lower-case letter" ;; esac
    case $value in *[0-9]*) ;; *) die "$name needs a digit" ;; esac
}

check_name() {
    case $2 in "" | *[!A-Za-z0-9_-]*) die "$1 '$2': use only letters, digits, _ and -" ;; esac
}

random_secret() {
    while :; do
        s=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20)
        case $s in *[A-Z]*) ;; *) continue ;; esac
        case $s in *[a-z]*) ;; *) continue ;; esac
        case $s in *[0-9]*) ;; *) continue ;; esac
        echo "$s"
        return
    done
}

# write_secret FILE CONTENT: only if absent (or ACD117_REWRITE_SECRETS=yes), mode 0640.
write_secret() {
    if [ -e "$1" ] && [ "$REWRITE" != yes ]; then
        echo "keeping $1"
        return
    fi
    (umask 027 && printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1")
    echo "wrote $1"
}

[ -d "$ETC" ] || die "$ETC does not exist (set ASTERISK_ETC)"
check_name ACD117_ARI_USER "$ARI_USER"
check_name ACD117_AMI_USER "$AMI_USER"
[ -z "${ACD117_ARI_PASSWORD:-}" ] || check_secret ACD117_ARI_PASSWORD "$ACD117_ARI_PASSWORD"
[ -z "${ACD117_AMI_SECRET:-}" ] || check_secret ACD117_AMI_SECRET "$ACD117_AMI_SECRET"

# 1. the configuration files of this directory
backup="$ETC/acd117-backup-$(date +%Y%m%d-%H%M%S)"
for f in "$SRC"/*.conf; do
    target="$ETC/$(basename "$f")"
    if [ -e "$target" ] && ! cmp -s "$f" "$target"; then
        mkdir -p "$backup"
        cp -p "$target" "$backup/"
    fi
    cp "$f" "$target"
    chmod 0644 "$target"
done
[ ! -d "$backup" ] || echo "previous files saved in $backup"

# 2. secrets and site files, outside the repository
(umask 027 && mkdir -p "$SECRETS" "$SITE")
chmod 0750 "$SECRETS" "$SITE"

if [ -n "${ACD117_ARI_PASSWORD:-}" ]; then
    write_secret "$SECRETS/ari-user.conf" "; ARI user of acd117, written by install.sh
[$ARI_USER](acd117-ari-user)
password = $ACD117_ARI_PASSWORD"
elif [ ! -e "$SECRETS/ari-user.conf" ]; then
    echo "warning: no ACD117_ARI_PASSWORD: acd117 cannot connect, 117 calls go to the fallback queue" >&2
fi

if [ -n "${ACD117_AMI_SECRET:-}" ]; then
    write_secret "$SECRETS/manager-user.conf" "; AMI user of acd117, written by install.sh
[$AMI_USER](acd117-ami-user)
secret = $ACD117_AMI_SECRET"
elif [ ! -e "$SECRETS/manager-user.conf" ]; then
    echo "warning: no ACD117_AMI_SECRET: acd117 will not see phone states" >&2
fi

# 3. agent phones: one endpoint, auth and aor each, with a random password
agents="$SITE/pjsip-agents.conf"
for ep in ${ACD117_AGENT_ENDPOINTS:-}; do
    check_name "agent endpoint" "$ep"
    if [ -e "$agents" ] && grep -q "^\[$ep\](acd117-agent)$" "$agents"; then
        echo "agent endpoint $ep exists"
        continue
    fi
    password=$(random_secret)
    (umask 027 && printf '\n[%s](acd117-agent)\nauth = %s\naors = %s\n[%s](acd117-agent-auth)\nusername = %s\npassword = %s\n[%s](acd117-agent-aor)\n' \
        "$ep" "$ep" "$ep" "$ep" "$ep" "$password" "$ep" >>"$agents")
    (umask 077 && printf '%s %s\n' "$ep" "$password" >>"$SECRETS/agent-passwords.txt")
    echo "agent endpoint $ep created (password in $SECRETS/agent-passwords.txt)"
done

if id asterisk >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    chown -R root:asterisk "$SECRETS" "$SITE"
fi

# 4. the national fallback queue must have someone to ring. queues.conf takes callers even
# when it is empty (joinempty = yes), so without members a 117 caller waits on hold music
# forever while acd117 is down. Members come only from the site file.
fallback="$SITE/queue-national-fallback.conf"
if [ ! -e "$fallback" ] || ! grep -Eq '^[[:space:]]*member[[:space:]]*=>?' "$fallback"; then
    cat >&2 <<EOF

******************************************************************************
WARNING: the national fallback queue 'national-fallback' has NO MEMBER.
  $fallback
  is missing or has no 'member =>' line. While acd117 is down, 117 callers are
  put in that queue and wait on hold music FOREVER: no phone rings.
  Add the national desk's phones, one line each, for example:
      member => PJSIP/nas-01,0,Pusdalops Nasional 1
  then: asterisk -rx 'queue reload all'
******************************************************************************

EOF
fi

echo "done. Load it with: asterisk -rx 'core reload'   (a restart is needed for modules.conf)"
