#!/bin/sh
# After the package is removed. The program is gone; what each user made with it is not touched:
# databases, logs, settings and the keychain entries stay, so a reinstall picks up where it left off.
set -e
case "$1" in
  purge|0)
    echo "BackOffice was removed. Each user's data was left in place:"
    echo "  database and settings: ~/.local/share/BackOffice/ (backoffice.db)"
    echo "  logs:                  ~/.local/state/BackOffice/logs/"
    echo "  ERP passwords:         the desktop keyring, entries of the service 'BackOffice'"
    echo "Delete them by hand if they are no longer needed."
    ;;
esac
exit 0
