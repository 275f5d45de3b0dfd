//! How values are stored: postcard, compressed with zstd. Facts, spans and commit records
//! repeat names a lot (every call names its caller), so compression shrinks them several
//! times for little CPU.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// zstd level: fast to write, and most of the gain of higher levels on this data.
const LEVEL: i32 = 3;

/// Encodes and compresses `value`.
pub fn pack<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    let bytes = postcard::to_stdvec(value).map_err(|err| err.to_string())?;
    zstd::bulk::compress(&bytes, LEVEL).map_err(|err| err.to_string())
}

/// Decompresses and decodes what [`pack`] wrote.
pub fn unpack<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let raw = zstd::stream::decode_all(bytes).map_err(|err| err.to_string())?;
    postcard::from_bytes(&raw).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let value = vec![("bch2_trans_begin".to_string(), 42u32); 100];
        let packed = pack(&value).expect("packs");
        assert!(packed.len() < 100, "{} bytes", packed.len());
        assert_eq!(unpack::<Vec<(String, u32)>>(&packed).expect("unpacks"), value);
        assert!(unpack::<Vec<(String, u32)>>(b"not zstd").is_err());
    }
}
