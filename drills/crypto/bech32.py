"""Bech32 decoding (BIP 173), as used by age for its identity strings (an AGE-SECRET-KEY line)."""

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for index, generator in enumerate(GENERATOR):
            if (top >> index) & 1:
                checksum ^= generator
    return checksum


def decode(text: str) -> tuple[str, bytes]:
    """(human-readable part, data bytes); raises ValueError for a malformed or altered string."""
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed case")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        raise ValueError("no separator or checksum")
    hrp, data_part = text[:separator], text[separator + 1:]
    if any(character not in CHARSET for character in data_part):
        raise ValueError("invalid character")
    values = [CHARSET.index(character) for character in data_part]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    if polymod(expanded + values) != 1:
        raise ValueError("bad checksum")
    return hrp, regroup(values[:-6])


def regroup(five_bit_values: list[int]) -> bytes:
    """5-bit groups to bytes; leftover bits must be zero padding of less than 5 bits."""
    accumulator, bits, out = 0, 0, bytearray()
    for value in five_bit_values:
        accumulator = (accumulator << 5) | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or (accumulator << (8 - bits)) & 0xFF:
        raise ValueError("invalid padding")
    return bytes(out)
