//! Canonical JSON straight from a `Serialize` value, without building a `serde_json::Value`.
//!
//! Canonical here means: object keys sorted by their UTF-8 bytes at every level, no
//! insignificant whitespace, strings and numbers written by `serde_json` (so `"`, `\\` and
//! control characters escaped, `/` and non-ASCII characters as they are). The bytes equal those
//! of writing `serde_json::to_value(value)` with sorted keys, which is how the policy revision
//! and the audit chain define their hashes; this writer is several times cheaper, because the
//! `Value` round trip allocates every key and node and hashes every key into an index map.
//!
//! Objects (structs and maps) are written into a scratch buffer field by field and emitted in key
//! order at their end; arrays stream straight through. Map keys must be strings.

use std::borrow::Cow;
use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};
pub use serde_json::Error;

/// The canonical JSON of `value`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(512);
    write(value, &[], &mut out)?;
    Ok(out)
}

/// Writes the canonical JSON of `value` to `out`, leaving out the top-level object fields named
/// in `skip_top_level` (a document's own hash, say).
pub fn write<T: Serialize + ?Sized>(
    value: &T,
    skip_top_level: &'static [&'static str],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    value.serialize(Canonical {
        out,
        skip: skip_top_level,
    })
}

struct Canonical<'a> {
    out: &'a mut Vec<u8>,
    /// Object fields to leave out, at this level only.
    skip: &'static [&'static str],
}

impl<'a> Canonical<'a> {
    fn nested(out: &'a mut Vec<u8>) -> Self {
        Canonical { out, skip: &[] }
    }

    fn scalar<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, value)
    }

    /// `{"variant":` … the caller writes the value and the closing brace.
    fn open_variant(&mut self, variant: &str) -> Result<(), Error> {
        self.out.push(b'{');
        serde_json::to_writer(&mut *self.out, variant)?;
        self.out.push(b':');
        Ok(())
    }
}

/// An array being written: elements stream straight to the output.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Written after the closing bracket (`}` for a tuple variant).
    suffix: &'static [u8],
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canonical::nested(self.out))
    }

    fn close(self) {
        self.out.push(b']');
        self.out.extend_from_slice(self.suffix);
    }
}

/// An object being written: each value goes to `scratch`, and the entries are emitted in key
/// order at the end.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    skip: &'static [&'static str],
    scratch: Vec<u8>,
    entries: Vec<(Cow<'static, str>, Range<usize>)>,
    pending_key: Option<String>,
    suffix: &'static [u8],
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, skip: &'static [&'static str], suffix: &'static [u8]) -> Self {
        Object {
            out,
            skip,
            scratch: Vec::with_capacity(256),
            entries: Vec::with_capacity(16),
            pending_key: None,
            suffix,
        }
    }

    fn entry<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        if self.skip.contains(&key.as_ref()) {
            return Ok(());
        }
        let start = self.scratch.len();
        value.serialize(Canonical::nested(&mut self.scratch))?;
        self.entries.push((key, start..self.scratch.len()));
        Ok(())
    }

    fn close(mut self) -> Result<(), Error> {
        self.entries
            .sort_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
        self.out.push(b'{');
        for (position, (key, range)) in self.entries.iter().enumerate() {
            if position > 0 {
                self.out.push(b',');
            }
            write_key(self.out, key)?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.scratch[range.clone()]);
        }
        self.out.push(b'}');
        self.out.extend_from_slice(self.suffix);
        Ok(())
    }
}

/// A key as a JSON string. Field names need no escaping, so the common case skips the escaper.
fn write_key(out: &mut Vec<u8>, key: &str) -> Result<(), Error> {
    if key
        .bytes()
        .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\')
    {
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, key)
    }
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // Through `Value`, as the reference form does: a non-finite float becomes `null`.
        self.scalar(&serde_json::Value::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar(&serde_json::Value::from(v))
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.scalar(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.scalar(&())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(&())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.scalar(&())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.scalar(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.open_variant(variant)?;
        value.serialize(Canonical::nested(&mut *self.out))?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>, Error> {
        self.out.push(b'[');
        Ok(Array {
            out: self.out,
            first: true,
            suffix: b"",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'a>, Error> {
        self.open_variant(variant)?;
        self.out.push(b'[');
        Ok(Array {
            out: self.out,
            first: true,
            suffix: b"}",
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, self.skip, b""))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'a>, Error> {
        Ok(Object::new(self.out, self.skip, b""))
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'a>, Error> {
        self.open_variant(variant)?;
        Ok(Object::new(self.out, &[], b"}"))
    }
}

macro_rules! array_compound {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close();
                Ok(())
            }
        }
    )*};
}
array_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! struct_compound {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.entry(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}
struct_compound!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.pending_key = Some(key.serialize(KeyText)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("map value without a key"))?;
        self.entry(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A map key as text. Only string keys occur in policy documents; anything else is refused
/// rather than written differently from the reference form.
struct KeyText;

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_bool(self, _v: bool) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_i8(self, _v: i8) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_i16(self, _v: i16) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_i32(self, _v: i32) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_i64(self, _v: i64) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_u8(self, _v: u8) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_u16(self, _v: u16) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_u32(self, _v: u32) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_u64(self, _v: u64) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::{Value, json};

    use super::{to_vec, write};

    /// The definition: sorted keys over the `serde_json::Value` of the input.
    fn reference(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(fields) => {
                let mut entries: Vec<_> = fields.iter().collect();
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                for (position, (key, field)) in entries.into_iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, key).unwrap_or_else(|e| panic!("{e}"));
                    out.push(b':');
                    reference(field, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (position, item) in items.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    reference(item, out);
                }
                out.push(b']');
            }
            scalar => serde_json::to_writer(&mut *out, scalar).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn both<T: Serialize>(value: &T) -> (String, String) {
        let streamed = to_vec(value).unwrap_or_else(|error| panic!("stream: {error}"));
        let mut expected = Vec::new();
        reference(
            &serde_json::to_value(value).unwrap_or_else(|error| panic!("value: {error}")),
            &mut expected,
        );
        (
            String::from_utf8_lossy(&streamed).into_owned(),
            String::from_utf8_lossy(&expected).into_owned(),
        )
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { z: bool, a: Option<f64> },
    }

    #[derive(Serialize)]
    struct Everything {
        zeta: Vec<Shape>,
        alpha: BTreeMap<String, serde_json::Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        escaped: &'static str,
        float: f64,
        not_a_number: f64,
        unit: (),
        bytes: &'static [u8],
        #[serde(flatten)]
        flattened: BTreeMap<String, i64>,
    }

    #[test]
    fn every_serde_shape_streams_to_the_reference_form() {
        let value = Everything {
            zeta: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(1, "x".into()),
                Shape::Struct {
                    z: true,
                    a: Some(1.5),
                },
            ],
            alpha: BTreeMap::from([
                (
                    "b".into(),
                    json!({"y": [1, {"d": null, "c": "é\"\n"}], "x": -3}),
                ),
                ("a".into(), json!(u64::MAX)),
            ]),
            skipped: None,
            escaped: "tab\tquote\"slash\\ \u{1}",
            float: 0.1,
            not_a_number: f64::NAN,
            unit: (),
            bytes: b"ab",
            flattened: BTreeMap::from([("middle".into(), 5)]),
        };
        let (streamed, reference) = both(&value);
        assert_eq!(streamed, reference);
    }

    #[test]
    fn a_value_is_written_with_sorted_keys() {
        let value = json!({"b": [1, {"z": 1, "a": "x\"y"}], "a": {"d": true, "c": null}});
        let (streamed, reference) = both(&value);
        assert_eq!(streamed, reference);
        assert_eq!(
            streamed,
            r#"{"a":{"c":null,"d":true},"b":[1,{"a":"x\"y","z":1}]}"#
        );
    }

    #[test]
    fn top_level_fields_can_be_left_out() {
        let mut streamed = Vec::new();
        let value = json!({"revision": "x", "keep": {"revision": 1}, "generated_at": 2});
        write(&value, &["revision", "generated_at"], &mut streamed)
            .unwrap_or_else(|error| panic!("stream: {error}"));
        assert_eq!(streamed, br#"{"keep":{"revision":1}}"#);
    }

    #[test]
    fn non_string_map_keys_are_refused() {
        let mut streamed = Vec::new();
        let value = BTreeMap::from([(1, true)]);
        assert!(write(&value, &[], &mut streamed).is_err());
    }
}
