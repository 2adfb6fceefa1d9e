"""Settings: server address, enrolment with the one-time code, contingent, language, PIN change.

Enrolment talks to the server, so it runs on a worker thread and reports back through
``Clock.schedule_once``; the UI stays responsive on a slow link.
"""

from __future__ import annotations

import threading

import requests
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.sync_client import enrol
from peacewatch.mobile.core.transport import CertificateRejected, LinkError


class SettingsScreen(Screen):
    message = StringProperty("")
    enrolled_as = StringProperty("")
    contingent_locked = BooleanProperty(False)

    def on_pre_enter(self, *args: object) -> None:
        session = App.get_running_app().session
        self.ids.server.text = session.setting("server_url")
        self.ids.contingent.text = session.setting("contingent")
        self.contingent_locked = session.contingent_locked
        self.ids.gps_max.text = f"{session.gps_max_accuracy():g}"
        self.enrolled_as = session.setting("username")
        self.message = ""

    def save_gps_max(self) -> None:
        app = App.get_running_app()
        try:
            metres = float(self.ids.gps_max.text)
        except ValueError:
            metres = 0.0
        if not 1 <= metres <= 10000:
            self.message = app.t("Type a number of metres between 1 and 10000.", app.lang)
            return
        app.session.set_settings(gps_max_accuracy_m=f"{metres:g}")
        self.message = app.t("Saved", app.lang)

    def save_contingent(self) -> None:
        app = App.get_running_app()
        app.session.set_settings(contingent=self.ids.contingent.text.strip().upper())
        self.message = app.t("Saved", app.lang)

    def do_enrol(self) -> None:
        app = App.get_running_app()
        url, code = self.ids.server.text.strip(), self.ids.code.text.strip()
        if "://" not in url:
            self.message = app.t("Type the server address, e.g. https://hq.mission.example:8443", app.lang)
            return
        if not code:
            self.message = app.t("Type the one-time enrolment code from your administrator.", app.lang)
            return
        self.message = app.t("Enrolling…", app.lang)
        ca = app.session.setting("ca_path") or True

        def work() -> None:
            try:
                result = enrol(requests.Session(), url, code=code, label="peacewatch tablet", verify=ca)
            except InvalidInput as exc:
                outcome: object = ("refused", str(exc))
            except CertificateRejected:
                outcome = ("certificate", "")
            except LinkError:
                outcome = ("offline", "")
            else:
                outcome = ("ok", result)
            Clock.schedule_once(lambda dt: self._enrol_done(url, outcome))

        threading.Thread(target=work, name="enrol", daemon=True).start()

    def _enrol_done(self, url: str, outcome: object) -> None:
        app = App.get_running_app()
        kind, value = outcome  # type: ignore[misc]
        if kind == "ok":
            app.session.enrolled(value, url)
            self.enrolled_as = value.username
            self.ids.contingent.text = app.session.setting("contingent")
            self.contingent_locked = app.session.contingent_locked
            self.ids.code.text = ""
            self.message = app.t("This tablet is enrolled for {user}.", app.lang, user=value.username)
        elif kind == "certificate":
            self.message = app.t("The server's certificate is not trusted; check the address.", app.lang)
        elif kind == "offline":
            self.message = app.t("No connection to the server; try again when you have a link.", app.lang)
        else:
            self.message = app.t("The server refused the code: {reason}", app.lang, reason=value)

    def change_pin(self) -> None:
        app = App.get_running_app()
        old, new, again = (self.ids[k].text.strip() for k in ("old_pin", "new_pin", "new_pin2"))
        if new != again:
            self.message = app.t("The two PINs are not the same.", app.lang)
            return
        try:
            app.session.open_store.change_pin(old, new)
        except InvalidInput as exc:
            self.message = (app.t("The current PIN is wrong.", app.lang) if exc.field == "old_pin"
                            else app.t("The PIN must have at least 4 digits.", app.lang))
            return
        for key in ("old_pin", "new_pin", "new_pin2"):
            self.ids[key].text = ""
        self.message = app.t("PIN changed.", app.lang)


SCREEN = SettingsScreen
