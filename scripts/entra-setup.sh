#!/usr/bin/env bash
# Sets up Sync Job Guard in a Microsoft Entra ID tenant with the Azure CLI (`az login` first, as a user who
# may create app registrations and grant admin consent), then prints the variables to set.
#
# It creates:
#   1. the API's app registration: App ID URI, the app roles JobControl.Read/Start/Admin,
#      "requestedAccessTokenVersion": 2 (v2 access tokens, whose aud is the client id), a delegated scope;
#   2. the service's own Graph identity (an app registration with a client secret, or none with
#      --managed-identity) with Synchronization.ReadWrite.All (or --owned-by: Application.ReadWrite.OwnedBy)
#      and admin consent;
#   3. a client app for scripts and schedulers (client credentials), granted the JobControl.Start role;
#   4. role assignments of the API's roles to a group (--group), for people.
#
# Usage: scripts/entra-setup.sh [--dry-run] [--name NAME] [--group GROUP_OBJECT_ID] [--owned-by]
#                               [--managed-identity PRINCIPAL_OBJECT_ID] [--out DIR]
#   --dry-run   print the az commands instead of running them (ids shown as <placeholders>)
#   --out DIR   where the API manifest parts are written (default: ./entra-setup)
set -euo pipefail

NAME="sync-job-guard"
GROUP=""
OWNED_BY=false
MI_OBJECT_ID=""
DRY_RUN=false
OUT="entra-setup"
GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
AZURE_CLI_APP_ID="04b07795-8ddb-461a-bbee-02f9e1bf7b46"

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --name) NAME="$2"; shift ;;
    --group) GROUP="$2"; shift ;;
    --owned-by) OWNED_BY=true ;;
    --managed-identity) MI_OBJECT_ID="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$OWNED_BY" = true ]; then
  GRAPH_PERMISSION="Application.ReadWrite.OwnedBy"
else
  GRAPH_PERMISSION="Synchronization.ReadWrite.All"
fi

# run CMD...: runs an az command and prints its output; in --dry-run, prints it and answers PLACEHOLDER.
run() {
  local placeholder=$1
  shift
  if [ "$DRY_RUN" = true ]; then
    printf '%q ' "$@" >&2
    printf '\n' >&2
    printf '%s\n' "$placeholder"
  else
    "$@"
  fi
}

uuid() {
  if [ "$DRY_RUN" = true ]; then
    echo "<$1-role-id>"
  elif command -v uuidgen >/dev/null 2>&1; then
    uuidgen | tr '[:upper:]' '[:lower:]'
  else
    cat /proc/sys/kernel/random/uuid
  fi
}

mkdir -p "$OUT"
ROLE_READ=$(uuid read)
ROLE_START=$(uuid start)
ROLE_ADMIN=$(uuid admin)
SCOPE_ID=$(uuid scope)

# The API manifest parts the service expects (checked by test/integration/entra-setup.int-spec.ts).
role() {
  printf '{"allowedMemberTypes":["User","Application"],"description":"%s","displayName":"%s","id":"%s","isEnabled":true,"value":"%s"}' "$3" "$2" "$1" "$2"
}
cat >"$OUT/app-roles.json" <<EOF
[
  $(role "$ROLE_READ" JobControl.Read "Read synchronization jobs and the audit trail"),
  $(role "$ROLE_START" JobControl.Start "Start synchronization jobs through the guard"),
  $(role "$ROLE_ADMIN" JobControl.Admin "Manage grants and recovery (implies Read and Start)")
]
EOF
cat >"$OUT/api.json" <<EOF
{
  "requestedAccessTokenVersion": 2,
  "oauth2PermissionScopes": [
    {
      "adminConsentDescription": "Call Sync Job Guard as the signed-in user (roles still apply)",
      "adminConsentDisplayName": "Access Sync Job Guard",
      "id": "$SCOPE_ID",
      "isEnabled": true,
      "type": "User",
      "userConsentDescription": "Call Sync Job Guard as you",
      "userConsentDisplayName": "Access Sync Job Guard",
      "value": "user_impersonation"
    }
  ]
}
EOF

TENANT_ID=$(run "<tenant-id>" az account show --query tenantId -o tsv)

echo "1. The API's app registration" >&2
API_APP_ID=$(run "<api-client-id>" az ad app create --display-name "$NAME-api" --sign-in-audience AzureADMyOrg \
  --app-roles "@$OUT/app-roles.json" --query appId -o tsv)
APP_ID_URI="api://$API_APP_ID"
run "" az ad app update --id "$API_APP_ID" --identifier-uris "$APP_ID_URI" >/dev/null
# requestedAccessTokenVersion and the scope live in the "api" section of the manifest (Graph's application).
API_OBJECT_ID=$(run "<api-object-id>" az ad app show --id "$API_APP_ID" --query id -o tsv)
run "" az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/$API_OBJECT_ID" \
  --headers "Content-Type=application/json" --body "{\"api\": $(tr -d '\n' <"$OUT/api.json")}" >/dev/null
# The Azure CLI may ask for tokens for people (az account get-access-token) without a consent prompt.
run "" az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/$API_OBJECT_ID" \
  --headers "Content-Type=application/json" \
  --body "{\"api\":{\"preAuthorizedApplications\":[{\"appId\":\"$AZURE_CLI_APP_ID\",\"delegatedPermissionIds\":[\"$SCOPE_ID\"]}]}}" >/dev/null
API_SP_ID=$(run "<api-sp-object-id>" az ad sp create --id "$API_APP_ID" --query id -o tsv)

echo "2. The service's Graph identity ($GRAPH_PERMISSION, admin consent)" >&2
GRAPH_SP_ID=$(run "<graph-sp-object-id>" az ad sp show --id "$GRAPH_APP_ID" --query id -o tsv)
GRAPH_ROLE_ID=$(run "<$GRAPH_PERMISSION-id>" az ad sp show --id "$GRAPH_APP_ID" \
  --query "appRoles[?value=='$GRAPH_PERMISSION'].id | [0]" -o tsv)
if [ -n "$MI_OBJECT_ID" ]; then
  SERVICE_PRINCIPAL_ID="$MI_OBJECT_ID"
  SERVICE_APP_ID="(managed identity)"
  SERVICE_SECRET=""
else
  SERVICE_APP_ID=$(run "<service-client-id>" az ad app create --display-name "$NAME-graph" \
    --sign-in-audience AzureADMyOrg --query appId -o tsv)
  SERVICE_PRINCIPAL_ID=$(run "<service-sp-object-id>" az ad sp create --id "$SERVICE_APP_ID" --query id -o tsv)
  SERVICE_SECRET=$(run "<service-client-secret>" az ad app credential reset --id "$SERVICE_APP_ID" \
    --display-name "$NAME" --years 1 --query password -o tsv)
fi
# An app role assignment to the service's principal is the admin consent of an application permission.
run "" az rest --method POST --uri "https://graph.microsoft.com/v1.0/servicePrincipals/$SERVICE_PRINCIPAL_ID/appRoleAssignments" \
  --headers "Content-Type=application/json" \
  --body "{\"principalId\":\"$SERVICE_PRINCIPAL_ID\",\"resourceId\":\"$GRAPH_SP_ID\",\"appRoleId\":\"$GRAPH_ROLE_ID\"}" >/dev/null

echo "3. A client app for scripts (JobControl.Start)" >&2
CLIENT_APP_ID=$(run "<scripts-client-id>" az ad app create --display-name "$NAME-scripts" \
  --sign-in-audience AzureADMyOrg --query appId -o tsv)
CLIENT_SP_ID=$(run "<scripts-sp-object-id>" az ad sp create --id "$CLIENT_APP_ID" --query id -o tsv)
CLIENT_SECRET=$(run "<scripts-client-secret>" az ad app credential reset --id "$CLIENT_APP_ID" \
  --display-name "$NAME-scripts" --years 1 --query password -o tsv)
run "" az rest --method POST --uri "https://graph.microsoft.com/v1.0/servicePrincipals/$API_SP_ID/appRoleAssignedTo" \
  --headers "Content-Type=application/json" \
  --body "{\"principalId\":\"$CLIENT_SP_ID\",\"resourceId\":\"$API_SP_ID\",\"appRoleId\":\"$ROLE_START\"}" >/dev/null

if [ -n "$GROUP" ]; then
  echo "4. Roles for the group $GROUP (JobControl.Read; give Start or Admin the same way)" >&2
  run "" az rest --method POST --uri "https://graph.microsoft.com/v1.0/servicePrincipals/$API_SP_ID/appRoleAssignedTo" \
    --headers "Content-Type=application/json" \
    --body "{\"principalId\":\"$GROUP\",\"resourceId\":\"$API_SP_ID\",\"appRoleId\":\"$ROLE_READ\"}" >/dev/null
fi

cat <<EOF

# Sync Job Guard: set these on every replica
AUTH_ISSUER=https://login.microsoftonline.com/$TENANT_ID/v2.0
AUTH_AUDIENCE=$API_APP_ID,$APP_ID_URI
AZURE_TENANT_ID=$TENANT_ID
EOF
if [ -n "$MI_OBJECT_ID" ]; then
  echo "AZURE_USE_MANAGED_IDENTITY=true"
else
  echo "AZURE_CLIENT_ID=$SERVICE_APP_ID"
  echo "AZURE_CLIENT_SECRET=$SERVICE_SECRET"
fi
cat <<EOF

# A token for a script or scheduler (client credentials):
#   curl -s -d grant_type=client_credentials -d client_id=$CLIENT_APP_ID -d client_secret=$CLIENT_SECRET \\
#     -d scope=$APP_ID_URI/.default https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token
# A token for a person (a member of the group):
#   az account get-access-token --resource $APP_ID_URI --query accessToken -o tsv
EOF
