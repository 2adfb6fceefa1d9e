"""The tablet app's Kivy UI: thin screens over the UI-free core (``peacewatch.mobile.core``).

UI-free controllers (tested without a window):

- ``text``        translation via ``peacewatch.common.i18n``, Arabic shaping (arabic-reshaper +
                  python-bidi), the font with Arabic glyphs
- ``forms``       the report form generated from the shared JSON Schema: field specs, values <->
                  draft fields, live validation messages per field, location/time helpers
- ``session``     the unlocked store and app settings kept in it (server, credential, language)
- ``background``  sync on a worker thread; progress reaches the UI only via ``Clock.schedule_once``
- ``automation``  the test-only command channel the window tests drive the app through

Kivy side: ``app`` (the App, screen manager, theme) and ``screens/`` - one Python + ``.kv`` pair
per screen (pin, home, new report, form, detail, sync, settings). ``cli`` adds ``peacewatch app``.
"""
