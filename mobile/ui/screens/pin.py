"""PIN screen: set the PIN on first start (twice), unlock afterwards; wrong PIN, back-off and wipe in plain words."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.common.i18n import N_
from peacewatch.mobile.core.errors import InvalidInput, LockedOut, StoreWiped, WrongPin
from peacewatch.mobile.core.remote_wipe import forget_marker, was_wiped_remotely

QUICK_DELETE_ARMED = N_("Tap Quick delete again to erase every report on this tablet now.")
WIPED_BY_HQ = N_("HQ reported this tablet lost and its reports were erased. Choose a new PIN to start again.")


class PinScreen(Screen):
    creating = BooleanProperty(False)
    delete_armed = BooleanProperty(False)
    message = StringProperty("")  # a msgid; the .kv translates it
    message_params = StringProperty("")

    def on_pre_enter(self, *args: object) -> None:
        self.prepare()

    def prepare(self) -> None:
        app = App.get_running_app()
        self.creating = not app.session.has_store()
        self.ids.pin.text = ""
        self.ids.confirm.text = ""
        self.message = ""
        self.delete_armed = False
        if self.creating and was_wiped_remotely(app.session.data_dir):
            self._say(WIPED_BY_HQ)

    def quick_delete(self) -> None:
        """Two taps (a stray touch must not erase the reports); no PIN (the point is speed under duress)."""
        if not self.delete_armed:
            self.delete_armed = True
            self._say(QUICK_DELETE_ARMED)
            return
        App.get_running_app().quick_delete()
        self.prepare()

    def submit(self) -> None:
        app = App.get_running_app()
        pin, confirm = self.ids.pin.text.strip(), self.ids.confirm.text.strip()
        try:
            if self.creating:
                app.session.create(pin, confirm)
                forget_marker(app.session.data_dir)
            else:
                app.session.unlock(pin)
        except StoreWiped:
            self._say(N_("Too many wrong PINs: the reports on this tablet were erased."))
            self.creating = True
        except WrongPin as exc:
            self._say(N_("Wrong PIN. {remaining} attempts left; wait {seconds} seconds."),
                      remaining=exc.remaining, seconds=round(exc.retry_after))
        except LockedOut as exc:
            self._say(N_("Too many wrong PINs. Try again in {seconds} seconds."), seconds=round(exc.retry_after))
        except InvalidInput as exc:
            if exc.field == "confirm":
                self._say(N_("The two PINs are not the same."))
            else:
                self._say(N_("The PIN must have at least 4 digits."))
        else:
            self.ids.pin.text = self.ids.confirm.text = ""
            self.message = ""
            app.unlocked()
        self.ids.pin.text = ""

    def _say(self, msgid: str, **params: object) -> None:
        import json

        self.message = ""  # the .kv re-renders on each property: never pair a msgid with old params
        self.message_params = json.dumps(params)
        self.message = msgid

    def shown_message(self, lang: str, message: str, params: str) -> str:
        import json

        if not message:
            return ""
        return App.get_running_app().t(message, lang, **json.loads(params or "{}"))


SCREEN = PinScreen
