use swatch::{ColorError, Rgba};

#[test]
fn short_hex_doubles_each_digit() {
    assert_eq!("#fff".parse(), Ok(Rgba::opaque(255, 255, 255)));
    assert_eq!("#1e9".parse(), Ok(Rgba::opaque(0x11, 0xee, 0x99)));
    assert_eq!("#000".parse(), Ok(Rgba::opaque(0, 0, 0)));
}

#[test]
fn short_hex_with_alpha() {
    assert_eq!("#f008".parse(), Ok(Rgba { r: 0xff, g: 0, b: 0, a: 0x88 }));
}

#[test]
fn short_and_long_forms_agree() {
    for (short, long) in [("#abc", "#aabbcc"), ("#1e9f", "#11ee99ff"), ("#F0A", "#ff00aa")] {
        assert_eq!(short.parse::<Rgba>(), long.parse::<Rgba>(), "{short} vs {long}");
    }
    assert_eq!("#abc".parse::<Rgba>().unwrap().to_hex(), "#aabbcc");
}

#[test]
fn other_forms_unchanged() {
    assert_eq!("#1e90ff".parse(), Ok(Rgba::opaque(0x1e, 0x90, 0xff)));
    assert_eq!("#12345".parse::<Rgba>(), Err(ColorError::HexLength(5)));
    assert_eq!("#12g".parse::<Rgba>(), Err(ColorError::HexDigit('g')));
}
