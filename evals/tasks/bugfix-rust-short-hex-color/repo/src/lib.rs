//! Colours as theme files write them: `#1e90ff`, `#fff`, `#1e90ff80` (with alpha) or `rgb(30, 144, 255)`.

use std::fmt;
use std::str::FromStr;

/// An sRGB colour with an alpha channel, each channel 0 to 255.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

/// Why a colour could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColorError {
    /// Neither a `#` hex colour nor `rgb(...)`.
    UnknownForm(String),
    /// A hex colour of a length other than 3, 4, 6 or 8 digits.
    HexLength(usize),
    /// A character that is not a hex digit.
    HexDigit(char),
    /// An `rgb(...)` channel that is not a number from 0 to 255.
    Channel(String),
}

impl fmt::Display for ColorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColorError::UnknownForm(text) => write!(f, "not a colour: {text:?} (use #rrggbb or rgb(r, g, b))"),
            ColorError::HexLength(n) => write!(f, "a hex colour has 3, 4, 6 or 8 digits, not {n}"),
            ColorError::HexDigit(c) => write!(f, "{c:?} is not a hex digit"),
            ColorError::Channel(text) => write!(f, "{text:?} is not a channel value from 0 to 255"),
        }
    }
}

impl std::error::Error for ColorError {}

impl Rgba {
    pub const fn opaque(r: u8, g: u8, b: u8) -> Self {
        Rgba { r, g, b, a: 255 }
    }

    /// The colour as `#rrggbb`, or `#rrggbbaa` when it is not opaque.
    pub fn to_hex(self) -> String {
        if self.a == 255 {
            format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
        } else {
            format!("#{:02x}{:02x}{:02x}{:02x}", self.r, self.g, self.b, self.a)
        }
    }
}

fn hex_value(c: char) -> Result<u8, ColorError> {
    c.to_digit(16).map(|d| d as u8).ok_or(ColorError::HexDigit(c))
}

fn parse_hex(digits: &str) -> Result<Rgba, ColorError> {
    let values = digits.chars().map(hex_value).collect::<Result<Vec<u8>, _>>()?;
    let channels: Vec<u8> = match values.len() {
        // Short forms: each digit stands for one channel.
        3 | 4 => values.clone(),
        6 | 8 => values.chunks(2).map(|pair| pair[0] * 16 + pair[1]).collect(),
        n => return Err(ColorError::HexLength(n)),
    };
    Ok(Rgba {
        r: channels[0],
        g: channels[1],
        b: channels[2],
        a: channels.get(3).copied().unwrap_or(255),
    })
}

fn parse_rgb(inner: &str) -> Result<Rgba, ColorError> {
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    if parts.len() != 3 {
        return Err(ColorError::UnknownForm(format!("rgb({inner})")));
    }
    let mut channels = [0u8; 3];
    for (slot, part) in channels.iter_mut().zip(&parts) {
        *slot = part.parse().map_err(|_| ColorError::Channel((*part).to_string()))?;
    }
    Ok(Rgba::opaque(channels[0], channels[1], channels[2]))
}

impl FromStr for Rgba {
    type Err = ColorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Some(digits) = text.strip_prefix('#') {
            return parse_hex(digits);
        }
        if let Some(inner) = text.strip_prefix("rgb(").and_then(|rest| rest.strip_suffix(')')) {
            return parse_rgb(inner);
        }
        Err(ColorError::UnknownForm(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_long_hex() {
        assert_eq!("#1e90ff".parse(), Ok(Rgba::opaque(0x1e, 0x90, 0xff)));
        assert_eq!("#1E90FF80".parse(), Ok(Rgba { r: 0x1e, g: 0x90, b: 0xff, a: 0x80 }));
    }

    #[test]
    fn parses_rgb_function() {
        assert_eq!(" rgb(30, 144, 255) ".parse(), Ok(Rgba::opaque(30, 144, 255)));
        assert_eq!("rgb(30, 300, 0)".parse::<Rgba>(), Err(ColorError::Channel("300".into())));
    }

    #[test]
    fn rejects_malformed_colours() {
        assert_eq!("#12345".parse::<Rgba>(), Err(ColorError::HexLength(5)));
        assert_eq!("#12g".parse::<Rgba>(), Err(ColorError::HexDigit('g')));
        assert!(matches!("blue".parse::<Rgba>(), Err(ColorError::UnknownForm(_))));
    }

    #[test]
    fn writes_hex() {
        assert_eq!(Rgba::opaque(0x1e, 0x90, 0xff).to_hex(), "#1e90ff");
        assert_eq!(Rgba { r: 0, g: 0, b: 0, a: 0x80 }.to_hex(), "#00000080");
    }
}
