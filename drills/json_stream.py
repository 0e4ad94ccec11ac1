"""A JSON document's top-level object read member by member from a text file, so that one large
member (a manifest's `files`) can be consumed entry by entry instead of held whole.

json.JSONDecoder.raw_decode decodes each value from a buffer refilled from the file; a value
ending exactly where the buffer does is decoded again once the buffer holds more (a number cut
in two would otherwise pass for a smaller one). No single value may exceed `max_value`
characters, nor all the values decoded whole together (the large member's entries apart): a
hostile document cannot make its small members fill the memory.

Errors are ValueError (json.JSONDecodeError among them) or UnicodeDecodeError, as json.loads's.
"""

import json
import re

CHUNK = 64 * 1024
DECODER = json.JSONDecoder()
WHITESPACE = re.compile(r"[ \t\n\r]*")


class TooLarge(ValueError):
    """Raised when one value of the document is larger than the reader's `max_value`."""


class Text:
    """A text file as a buffer refilled on demand; `position` is where reading goes on."""

    def __init__(self, handle, max_value: int):
        self.handle, self.max_value = handle, max_value
        self.buffer, self.position, self.consumed, self.ended = "", 0, 0, False
        self.budget, self.counting = max_value, True  # characters left for the values decoded whole

    def more(self) -> bool:
        """Read more of the file into the buffer (at least as much as it holds: a large value is
        read in a few passes, not in many); False at the end of the file."""
        if self.ended:
            return False
        if len(self.buffer) - self.position > self.max_value:
            raise TooLarge(f"holds a value of more than {self.max_value:,} characters")
        self.consumed += self.position
        self.buffer, self.position = self.buffer[self.position:], 0
        data = self.handle.read(max(CHUNK, len(self.buffer)))
        self.ended = not data
        self.buffer += data
        return not self.ended

    def peek(self) -> str:
        """The next character that is not whitespace, not consumed; "" at the end of the file."""
        while True:
            self.position = WHITESPACE.match(self.buffer, self.position).end()
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self.more():
                return ""

    def expect(self, characters: str) -> str:
        """Consume the next character if it is one of `characters`; ValueError otherwise."""
        found = self.peek()
        if not found or found not in characters:
            raise ValueError(f"expected one of {characters!r} at character {self.consumed + self.position}")
        self.position += 1
        return found

    def value(self):
        """The next JSON value, decoded whole."""
        self.peek()
        while True:
            try:
                value, end = DECODER.raw_decode(self.buffer, self.position)
                if end < len(self.buffer) or self.ended:
                    self.budget -= (end - self.position) if self.counting else 0
                    if self.budget < 0:
                        raise TooLarge(f"holds more than {self.max_value:,} characters outside its large member")
                    self.position = end
                    return value
            except json.JSONDecodeError as error:
                if self.ended:
                    raise ValueError(f"{error.msg} at character {self.consumed + error.pos}") from None
            self.more()


def members(text: Text, large: str):
    """(key, value) of each member of the object starting at `text`; the member named `large`,
    if an object, as (key, an iterator of its own members) that must be consumed before the next."""
    text.expect("{")
    if text.peek() == "}":
        text.position += 1
        return
    while True:
        if text.peek() != '"':
            raise ValueError(f"expected a key at character {text.consumed + text.position}")
        key = text.value()
        text.expect(":")
        if key == large and text.peek() == "{":
            text.counting = False  # its entries are consumed one by one, not held
            yield key, members(text, "")
            text.counting = True
        else:
            yield key, text.value()
        if text.expect(",}") == "}":
            return


def top_level(handle, large: str, max_value: int):
    """(key, value) of each member of the document's top-level object, `large` as in members();
    a document that is not an object gives one member, None, with the whole document decoded."""
    text = Text(handle, max_value)
    if text.peek() == "{":
        yield from members(text, large)
    else:
        yield None, text.value()
    if text.peek():
        raise ValueError(f"extra data at character {text.consumed + text.position}")
