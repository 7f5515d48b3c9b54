"""Spanish for strings the catalogue has not translated yet, for a test's duration.

New strings are translated when the catalogue is next updated; until then a test can
still see that a message is read through the catalogue (marked for translation and
looked up in the reader's language) by giving it a stand-in Spanish, "[es] <English>".
"""

from contextlib import contextmanager

from django.utils.translation import trans_real


@contextmanager
def stand_in_spanish(*msgids: str):
    """Within the block, each of ``msgids`` reads "[es] <msgid>" in Spanish."""
    catalogue = trans_real.translation("es")._catalog
    saved = {msgid: catalogue.get(msgid) for msgid in msgids}
    for msgid in msgids:
        catalogue[msgid] = f"[es] {msgid}"
    try:
        yield
    finally:
        for msgid, msgstr in saved.items():
            if msgstr is None:
                for layer in catalogue._catalogs:
                    layer.pop(msgid, None)
            else:
                catalogue[msgid] = msgstr
