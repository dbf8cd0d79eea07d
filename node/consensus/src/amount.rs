//! Share amounts: a checked newtype over units (1 share = 10⁸ units).

use core::fmt;

/// An amount of shares, in units (10⁸ units = 1 share). Always within `0..=MAX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShareAmount(u64);

/// The error returned when an amount would leave `0..=ShareAmount::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("share amount {units} units is above the maximum {max}", max = ShareAmount::MAX.0)]
pub struct AmountOutOfRange {
    /// The offending number of units.
    pub units: u64,
}

impl ShareAmount {
    /// Zero units.
    pub const ZERO: ShareAmount = ShareAmount(0);
    /// Units per share.
    pub const UNITS_PER_SHARE: u64 = 100_000_000;
    /// The largest amount any output, transaction or total may hold: 10¹⁷ units (10⁹ shares), the
    /// role of Bitcoin's `MAX_MONEY`. It leaves room for custom networks' allocations and
    /// schedules while every sum stays far below `i64::MAX` (the script engine's amount type).
    /// Chain parameters whose total supply could exceed it are rejected.
    pub const MAX: ShareAmount = ShareAmount(1_000_000_000 * 100_000_000);

    /// Creates an amount from units.
    ///
    /// # Errors
    /// [`AmountOutOfRange`] when `units > MAX`.
    pub const fn from_units(units: u64) -> Result<Self, AmountOutOfRange> {
        if units > Self::MAX.0 {
            Err(AmountOutOfRange { units })
        } else {
            Ok(ShareAmount(units))
        }
    }

    /// Creates an amount from a Bitcoin-format output value (`i64` semantics are never used).
    ///
    /// # Errors
    /// [`AmountOutOfRange`] when the value is above `MAX`.
    pub fn from_output_value(value: bitcoin::Amount) -> Result<Self, AmountOutOfRange> {
        Self::from_units(value.to_sat())
    }

    /// The number of units.
    pub const fn to_units(self) -> u64 {
        self.0
    }

    /// `self + rhs`, or `None` if the sum would exceed `MAX`.
    pub fn checked_add(self, rhs: ShareAmount) -> Option<ShareAmount> {
        self.0
            .checked_add(rhs.0)
            .and_then(|u| Self::from_units(u).ok())
    }

    /// `self - rhs`, or `None` if it would be negative.
    pub fn checked_sub(self, rhs: ShareAmount) -> Option<ShareAmount> {
        self.0.checked_sub(rhs.0).map(ShareAmount)
    }
}

impl fmt::Display for ShareAmount {
    /// Formats as shares with eight decimals, e.g. `50.00000000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:08}",
            self.0 / Self::UNITS_PER_SHARE,
            self.0 % Self::UNITS_PER_SHARE
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        assert!(ShareAmount::from_units(ShareAmount::MAX.to_units()).is_ok());
        assert_eq!(
            ShareAmount::from_units(ShareAmount::MAX.to_units() + 1),
            Err(AmountOutOfRange {
                units: ShareAmount::MAX.to_units() + 1
            })
        );
        assert_eq!(ShareAmount::MAX.checked_add(ShareAmount(1)), None);
        assert_eq!(ShareAmount::ZERO.checked_sub(ShareAmount(1)), None);
        assert_eq!(
            ShareAmount(5).checked_sub(ShareAmount(2)),
            Some(ShareAmount(3))
        );
    }

    #[test]
    fn displays_as_shares() {
        assert_eq!(ShareAmount(5_000_000_000).to_string(), "50.00000000");
        assert_eq!(ShareAmount(1).to_string(), "0.00000001");
    }
}
