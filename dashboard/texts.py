"""Every word the dashboard shows, in French (the default) and English, and how dates and
durations are written for people. A status is always an icon and words, never a colour alone."""

from drills import site_words
from drills.site_words import duration  # noqa: F401 (the pages import it from here)
from drills.hosting import words
from drills.site_words import LANGUAGES, STATUS_COLOUR, day, status_label  # noqa: F401 (the pages' words)

STATUS_LABEL = {status: status_label(status, "fr") for status in ("green", "amber", "red", "never")}  # the choices

TEXT = {
    "app.title": {"fr": "Restore Drill — vos sauvegardes, vérifiées", "en": "Restore Drill — your backups, proven"},
    "login.title": {"fr": "Connexion", "en": "Sign in"},
    "login.name": {"fr": "Identifiant", "en": "User name"},
    "login.password": {"fr": "Mot de passe", "en": "Password"},
    "login.submit": {"fr": "Se connecter", "en": "Sign in"},
    "login.refused": {"fr": "Identifiant ou mot de passe incorrect.", "en": "Wrong user name or password."},
    "login.wait": {"fr": "Trop d'essais infructueux : réessayez dans {wait}.",
                   "en": "Too many failed attempts: try again in {wait}."},
    "login.oidc": {"fr": "Se connecter avec votre compte d'entreprise", "en": "Sign in with your company account"},
    "login.oidc_unknown": {"fr": "Ce compte n'a pas accès au tableau de bord.",
                           "en": "This account has no access to the dashboard."},
    "logout": {"fr": "Se déconnecter", "en": "Sign out"},
    "language": {"fr": "Langue", "en": "Language"},
    "signed_in_as": {"fr": "Connecté : {name} ({role})", "en": "Signed in: {name} ({role})"},
    "page.status": {"fr": "Mon statut", "en": "My status"},
    "page.fleet": {"fr": "Parc", "en": "Fleet"},
    "page.site": {"fr": "Site", "en": "Site"},
    "page.drill": {"fr": "Exercice", "en": "Drill"},
    "page.audit": {"fr": "Journal d'audit", "en": "Audit journal"},
    "not_found": {"fr": "Rien à afficher ici.", "en": "Nothing to show here."},
    "no_sites": {"fr": "Aucun site ne vous est attribué.", "en": "No site is assigned to you."},
    "choose_site": {"fr": "Site", "en": "Site"},
    # The pharmacist's status page.
    "status.green": {"fr": "Votre sauvegarde du {date} a été restaurée et vérifiée avec succès.",
                     "en": "Your backup of {date} was restored and verified successfully."},
    "status.green.meaning": site_words.CONSEQUENCE["green"],
    "status.red": {"fr": "Votre sauvegarde du {date} n'a PAS pu être restaurée.",
                   "en": "Your backup of {date} could NOT be restored."},
    "status.red.meaning": site_words.CONSEQUENCE["red"],
    "status.amber.error": {"fr": "La vérification de cette nuit n'a pas pu avoir lieu (problème technique de "
                                 "notre côté, pas de votre sauvegarde).",
                           "en": "Last night's check could not run (a technical problem on our side, not in your "
                                 "backup)."},
    "status.amber.proof.old": {"fr": "Aucune restauration n'a été vérifiée depuis le {date}.",
                               "en": "No restore has been proven since {date}."},
    "status.amber.contents.unverified": {
        "fr": "Votre sauvegarde du {date} a été restaurée, mais son contenu n'a pas été vérifié (aucune liste des "
              "tables attendues n'accompagne la sauvegarde).",
        "en": "Your backup of {date} was restored, but its contents were not verified (no list of the expected "
              "tables comes with the backup)."},
    "status.amber.rto.slow": {"fr": "Votre sauvegarde est restaurable, mais la restauration prend plus de temps "
                                    "que l'objectif ({rto} au lieu de {target} maximum).",
                              "en": "Your backup can be restored, but it takes longer than the target ({rto} "
                                    "instead of at most {target})."},
    "status.amber.history.rows_dropped": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais une partie des données a disparu depuis la "
              "précédente (des lignes supprimées dans votre logiciel ?).",
        "en": "Your backup of {date} can be restored, but part of the data vanished since the one before (rows "
              "deleted in your software?)."},
    "status.amber.history.schema_changed": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais la structure de vos données a changé depuis la "
              "précédente (une mise à jour de votre logiciel ?).",
        "en": "Your backup of {date} can be restored, but the structure of your data changed since the one before "
              "(an update of your software?)."},
    "status.amber.history.rto_regression": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais la restauration a été nettement plus lente que "
              "d'habitude.",
        "en": "Your backup of {date} can be restored, but restoring it took much longer than usual."},
    "status.amber.hosting.outside_eea": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais elle est stockée hors de l'Espace économique "
              "européen, ce que les règles d'hébergement des données de santé (HDS) ne permettent pas.",
        "en": "Your backup of {date} can be restored, but it is stored outside the European Economic Area, which "
              "the rules for hosting health data (HDS) do not allow."},
    "status.amber.hosting.mismatch": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais elle n'est pas stockée dans le pays annoncé.",
        "en": "Your backup of {date} can be restored, but it is not stored in the country announced."},
    "status.amber.hosting.certificate_expired": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais la certification HDS de son hébergeur a expiré.",
        "en": "Your backup of {date} can be restored, but its host's HDS certification has expired."},
    "status.amber.hosting.certificate_expiring": {
        "fr": "Votre sauvegarde du {date} est restaurable ; la certification HDS de son hébergeur arrive bientôt à "
              "échéance et votre prestataire doit vérifier son renouvellement.",
        "en": "Your backup of {date} can be restored; its host's HDS certification ends soon and your provider must "
              "check its renewal."},
    "status.amber.hosting.unverified": {
        "fr": "Votre sauvegarde du {date} est restaurable, mais le lieu où elle est stockée n'a pas pu être vérifié.",
        "en": "Your backup of {date} can be restored, but where it is stored could not be checked."},
    "status.red.attention": {
        "fr": "Votre prestataire a demandé que ce point bloque la vérification : il doit être réglé.",
        "en": "Your provider asked for this point to fail the check: it must be fixed."},
    "hosting.line": {"fr": "🏥 Vos données sont hébergées {where}{outside}{host}{certified}.",
                     "en": "🏥 Your data is hosted {where}{outside}{host}{certified}."},
    "hosting.heading": {"fr": "Hébergement", "en": "Hosting"},
    "hosting.undeclared": {"fr": "Aucun hébergement déclaré pour ce site (catalogue : `hosting`).",
                           "en": "No hosting declared for this site (catalog: `hosting`)."},
    "status.never": {"fr": "Votre sauvegarde n'a encore jamais été vérifiée.",
                     "en": "Your backup has never been checked yet."},
    "status.call": {"fr": "Que faire ? Appelez {contact}.", "en": "What to do? Call {contact}."},
    "status.call.default": site_words.CONTACT_DEFAULT,
    "status.last_proven": {"fr": "Dernière restauration prouvée", "en": "Last proven restore"},
    "status.restore_time": {"fr": "Durée d'une restauration", "en": "Time to restore"},
    "status.backup_age": {"fr": "Âge de la sauvegarde la plus récente", "en": "Age of the newest backup"},
    "status.never_proven": {"fr": "jamais", "en": "never"},
    "status.target": {"fr": "objectif : {target} maximum", "en": "target: at most {target}"},
    # The operator's pages.
    "fleet.filter.status": {"fr": "Statut", "en": "Status"},
    "fleet.filter.tenant": {"fr": "Client (tenant)", "en": "Tenant"},
    "fleet.filter.reason": {"fr": "Raison", "en": "Reason"},
    "fleet.count": {"fr": "{shown} site(s) affiché(s) sur {total} — {red} rouge(s), {never} jamais vérifié(s)",
                    "en": "{shown} of {total} site(s) — {red} red, {never} never drilled"},
    "col.status": {"fr": "Statut", "en": "Status"},
    "col.site": {"fr": "Site", "en": "Site"},
    "col.tenant": {"fr": "Client", "en": "Tenant"},
    "col.last_drill": {"fr": "Dernier exercice", "en": "Last drill"},
    "col.rto": {"fr": "RTO mesuré (s)", "en": "Measured RTO (s)"},
    "col.rto_target": {"fr": "Objectif RTO (s)", "en": "RTO target (s)"},
    "col.backup_age": {"fr": "Âge sauvegarde (h)", "en": "Backup age (h)"},
    "col.rpo": {"fr": "RPO (h)", "en": "RPO (h)"},
    "col.reason": {"fr": "Raison du dernier échec", "en": "Last failure's reason"},
    "col.trend": {"fr": "Tendance RTO", "en": "RTO trend"},
    "open_site": {"fr": "Ouvrir la page du site", "en": "Open the site's page"},
    "site.rto_chart": {"fr": "RTO mesuré et objectif", "en": "Measured RTO and target"},
    "site.phases_chart": {"fr": "Durée des phases (derniers exercices)", "en": "Phase timings (recent drills)"},
    "site.age_chart": {"fr": "Âge de la sauvegarde restaurée et RPO", "en": "Age of the restored backup, and RPO"},
    "site.findings": {"fr": "Échecs récents", "en": "Recent failures"},
    "site.no_drill": {"fr": "Aucun exercice pour ce site.", "en": "No drill for this site yet."},
    "compliance.heading": {"fr": "Rapport de conformité mensuel", "en": "Monthly compliance report"},
    "compliance.tenant": {"fr": "Client (tenant)", "en": "Tenant"},
    "compliance.month": {"fr": "Mois (UTC)", "en": "Month (UTC)"},
    "compliance.prepare": {"fr": "Préparer le rapport de conformité", "en": "Prepare the compliance report"},
    "compliance.download": {"fr": "Télécharger le rapport de conformité (PDF)",
                            "en": "Download the compliance report (PDF)"},
    "certificate.download": {"fr": "Télécharger le certificat de restauration (PDF)",
                             "en": "Download the restore certificate (PDF)"},
    "site.downloads": {"fr": "Rapports signés", "en": "Signed reports"},
    "site.choose_drill": {"fr": "Exercice", "en": "Drill"},
    "site.download": {"fr": "Télécharger le rapport signé", "en": "Download the signed report"},
    "site.download_signature": {"fr": "Télécharger sa signature (.sig)", "en": "Download its signature (.sig)"},
    "site.open_drill": {"fr": "Voir le détail de l'exercice", "en": "Open the drill's details"},
    "drill_now": {"fr": "Lancer un exercice maintenant", "en": "Drill now"},
    "drill_now.backup": {"fr": "Sauvegarde à vérifier", "en": "Backup to drill"},
    "drill_now.newest": {"fr": "La plus récente (comme chaque nuit)", "en": "The newest (as every night)"},
    "drill_now.other": {"fr": "Une autre, par son nom…", "en": "Another, by its name…"},
    "drill_now.name": {"fr": "Nom de la sauvegarde (tel que `drill backups` l'affiche)",
                       "en": "The backup's name (as `drill backups` lists it)"},
    "finder.title": {"fr": "Dernière sauvegarde restaurable", "en": "Newest restorable backup"},
    "finder.found": {"fr": "Réponse du {at} UTC : la sauvegarde {backup} (prise le {taken} UTC) se restaure ; "
                           "la restaurer perdrait {loss} de données.",
                     "en": "Answer of {at} UTC: backup {backup} (taken {taken} UTC) restores; restoring it loses "
                           "{loss} of data."},
    "finder.none": {"fr": "Réponse du {at} UTC : aucune des {tried} sauvegardes essayées ne se restaure.",
                    "en": "Answer of {at} UTC: none of the {tried} backups tried restores."},
    "finder.invalid": {"fr": "La signature de cette réponse ne se vérifie pas.",
                       "en": "This answer's signature does not verify."},
    "finder.run": {"fr": "Chercher la plus récente sauvegarde restaurable", "en": "Find the newest restorable backup"},
    "finder.sent": {"fr": "Recherche {request_id} envoyée aux workers.",
                    "en": "Search {request_id} sent to the workers."},
    "finder.stopped": {"fr": "Recherche du {at} UTC interrompue ({reason}) : un problème de notre côté, pas des "
                             "sauvegardes. Relancez-la une fois réglé.",
                       "en": "Search of {at} UTC stopped ({reason}): a problem on our side, not the backups'. Ask "
                             "again once it is fixed."},
    "drill_now.name_missing": {"fr": "Donnez le nom de la sauvegarde.", "en": "Give the backup's name."},
    "drill.sent": {"fr": "Exercice {request_id} envoyé aux workers.", "en": "Drill {request_id} sent to the workers."},
    "drill_now.failed": {"fr": "La file d'attente est injoignable : {error}", "en": "The queue is unreachable: {error}"},
    "drill.signature": {"fr": "Signature", "en": "Signature"},
    "drill.findings": {"fr": "Constats", "en": "Findings"},
    "drill.timings": {"fr": "Durées (s)", "en": "Timings (s)"},
    "drill.hint": {"fr": "Piste", "en": "Hint"},
    "audit.chain_ok": {"fr": "Chaînage du journal intact.", "en": "The journal's chain is intact."},
    "audit.chain_broken": {"fr": "Chaînage rompu aux lignes : {lines}", "en": "Chain broken at lines: {lines}"},
}

def text(key: str, language: str, **values) -> str:
    return TEXT[key][language].format(**values)


def hosting_line(locations: list[dict] | None, language: str) -> str:
    """Where the backups are, for the pharmacist: "Vos données sont hébergées en France par X, certifié
    HDS jusqu'au 31 mars 2027." ('' when the site declares no hosting)."""
    backup = words.backup_location(locations)
    return text("hosting.line", language, **words.sentence_parts(backup, language, lambda iso: day(iso, language))) \
        if backup else ""


def hosting_rows(locations: list[dict] | None, language: str) -> list[str]:
    """Each storage location on one line, for the operator."""
    return [words.line(location, language, lambda iso: day(iso, language)) for location in locations or ()]


