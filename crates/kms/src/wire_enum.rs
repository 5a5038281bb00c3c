//! The one shape every KMS enum shares: a Rust enum whose values are AWS wire strings.
//!
//! Each enum parses from and prints as its AWS string (`as_str`, `FromStr`, `Display`) and
//! (de)serializes as that string with serde. Values the botocore model lists but coffer does
//! not offer (the China-Regions-only SM family, ML-DSA's `EXTERNAL_MU`) are not variants: parsing
//! them yields a distinct [`ParseEnumError`] so the caller can answer as AWS would.

use thiserror::Error;

/// Why a value of the model's enum is not offered by coffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unsupported {
    /// AWS offers the value only in the China Regions (SM2, SM2PKE, SM2DSA). Outside them AWS
    /// refuses it with `UnsupportedOperationException`; see
    /// [`crate::messages::not_supported_in_region`].
    ChinaRegionsOnly,
    /// AWS offers the value, coffer does not implement it yet (`EXTERNAL_MU`).
    NotImplemented,
}

/// A string that is not a value coffer accepts for one of the KMS enums.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseEnumError {
    /// Not a value of the model's enum at all. AWS answers `ValidationException`; see
    /// [`crate::messages::enum_value_invalid`].
    #[error("{value:?} is not a valid {type_name}")]
    Unknown {
        /// The enum's name, e.g. `KeySpec`.
        type_name: &'static str,
        /// The rejected input.
        value: String,
    },
    /// A value of the model's enum that AWS offers only in the China Regions.
    #[error("{type_name} {value} is only offered in the China Regions")]
    ChinaRegionsOnly {
        /// The enum's name.
        type_name: &'static str,
        /// The model value, e.g. `SM2`.
        value: &'static str,
    },
    /// A value of the model's enum that coffer does not implement.
    #[error("{type_name} {value} is not implemented by coffer")]
    NotImplemented {
        /// The enum's name.
        type_name: &'static str,
        /// The model value, e.g. `EXTERNAL_MU`.
        value: &'static str,
    },
}

impl ParseEnumError {
    /// Classifies a string no variant matched, against the enum's unsupported model values.
    pub fn reject(
        type_name: &'static str,
        value: &str,
        unsupported: &[(&'static str, Unsupported)],
    ) -> Self {
        match unsupported.iter().find(|(wire, _)| *wire == value) {
            Some((wire, Unsupported::ChinaRegionsOnly)) => Self::ChinaRegionsOnly {
                type_name,
                value: wire,
            },
            Some((wire, Unsupported::NotImplemented)) => Self::NotImplemented {
                type_name,
                value: wire,
            },
            None => Self::Unknown {
                type_name,
                value: value.to_owned(),
            },
        }
    }
}

/// What every KMS wire enum offers, for code generic over them.
pub trait WireEnum: Copy + Sized + 'static {
    /// The enum's name, e.g. `KeySpec`.
    const NAME: &'static str;
    /// Every value coffer implements, in the botocore model's order.
    const ALL: &'static [Self];
    /// Values the model lists that coffer refuses, with the reason.
    const UNSUPPORTED: &'static [(&'static str, Unsupported)];
    /// The AWS wire string.
    fn as_str(self) -> &'static str;
}

/// Declares a KMS enum whose variants are AWS wire strings.
///
/// `ALL` lists the implemented values in the botocore model's order; `UNSUPPORTED` lists the
/// model values coffer recognises but refuses, with the reason.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
        unsupported { $( $uwire:literal => $ureason:ident, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value coffer implements, in the botocore model's order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// Values the model lists that coffer refuses, with the reason.
            pub const UNSUPPORTED: &'static [(&'static str, $crate::wire_enum::Unsupported)] = &[
                $( ($uwire, $crate::wire_enum::Unsupported::$ureason), )*
            ];

            /// The AWS wire string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }
        }

        impl $crate::wire_enum::WireEnum for $name {
            const NAME: &'static str = stringify!($name);
            const ALL: &'static [$name] = $name::ALL;
            const UNSUPPORTED: &'static [(&'static str, $crate::wire_enum::Unsupported)] =
                $name::UNSUPPORTED;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::wire_enum::ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok($name::$variant), )+
                    other => Err($crate::wire_enum::ParseEnumError::reject(
                        stringify!($name),
                        other,
                        Self::UNSUPPORTED,
                    )),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use wire_enum;

/// Test support: checks a wire enum against the model's literal value list.
#[cfg(test)]
pub(crate) mod testing {
    use super::{ParseEnumError, WireEnum};
    use core::fmt::Debug;
    use core::str::FromStr;

    /// Every model value parses to a variant that prints it back, or is one of the enum's
    /// declared unsupported values; the implemented values are `ALL`, in the model's order;
    /// serde writes and reads the wire string; other strings are `Unknown`.
    pub(crate) fn assert_matches_model<T>(model: &[&str])
    where
        T: WireEnum + FromStr<Err = ParseEnumError> + PartialEq + Debug + serde::Serialize,
        T: serde::de::DeserializeOwned,
    {
        let mut implemented = Vec::new();
        for &value in model {
            match value.parse::<T>() {
                Ok(parsed) => {
                    assert_eq!(parsed.as_str(), value);
                    implemented.push(parsed);
                }
                Err(
                    ParseEnumError::ChinaRegionsOnly {
                        value: v,
                        type_name,
                    }
                    | ParseEnumError::NotImplemented {
                        value: v,
                        type_name,
                    },
                ) => {
                    assert_eq!(v, value);
                    assert_eq!(type_name, T::NAME);
                }
                Err(other) => panic!("{} rejects model value {value}: {other}", T::NAME),
            }
        }
        assert_eq!(
            implemented,
            T::ALL,
            "{} ALL differs from the model",
            T::NAME
        );
        assert_eq!(implemented.len() + T::UNSUPPORTED.len(), model.len());
        for value in T::ALL {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *value);
        }
        for bad in ["", "not-a-value", "enabled_x"] {
            assert!(matches!(
                bad.parse::<T>(),
                Err(ParseEnumError::Unknown { .. })
            ));
        }
        let lower = model[0].to_ascii_lowercase();
        if lower != model[0] {
            assert!(
                lower.parse::<T>().is_err(),
                "{} parses case-insensitively",
                T::NAME
            );
        }
        assert!(serde_json::from_str::<T>("\"not-a-value\"").is_err());
    }
}
