//! How values are stored: postcard, compressed with zstd. Facts, spans and commit records
//! repeat names a lot (every call names its caller), so compression shrinks them several
//! times for little CPU. Lists of blob ordinals are stored as the varints of their gaps.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;

/// zstd level: fast to write, and most of the gain of higher levels on this data.
const LEVEL: i32 = 1;

/// Encodes and compresses `value`.
pub fn pack<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    let bytes = postcard::to_stdvec(value).map_err(|err| err.to_string())?;
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(zstd::bulk::Compressor::new(LEVEL).map_err(|err| err.to_string())?),
        };
        compressor.compress(&bytes).map_err(|err| err.to_string())
    })
}

/// Largest value [`unpack`] accepts once decompressed (frames record their size).
const MAX_UNPACKED: usize = 64 << 20;

thread_local! {
    /// One compression context per thread: creating one costs more than compressing a
    /// small value.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    /// One decompression context per thread, likewise.
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Decompresses and decodes what [`pack`] wrote.
pub fn unpack<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(&decompress(bytes)?).map_err(|err| err.to_string())
}

/// Like [`pack`] for a value that serializes as `head` followed by `tail` (postcard
/// writes a struct as its fields one after another), but as two zstd frames, so that
/// [`unpack_head`] can decompress `head` alone. Decompressed together, the frames are
/// exactly the value, and [`unpack`] reads it.
pub fn pack_in_two<H: Serialize + ?Sized, T: Serialize + ?Sized>(
    head: &H,
    tail: &T,
) -> Result<Vec<u8>, String> {
    let mut packed = pack(head)?;
    packed.extend(pack(tail)?);
    Ok(packed)
}

/// Decodes the first fields of a value packed by [`pack_in_two`] (or by [`pack`]),
/// decompressing only its first frame: `T` is a struct whose fields are, in order, the
/// first fields of the packed value's struct, all within that frame.
pub fn unpack_head<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let first = zstd::zstd_safe::find_frame_compressed_size(bytes)
        .map_err(|code| zstd::zstd_safe::get_error_name(code).to_string())?;
    let raw = decompress(&bytes[..first.min(bytes.len())])?;
    let (value, _rest) = postcard::take_from_bytes(&raw).map_err(|err| err.to_string())?;
    Ok(value)
}

fn decompress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(decompressor) => decompressor,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(|err| err.to_string())?),
        };
        decompressor
            .decompress(bytes, MAX_UNPACKED)
            .map_err(|err| err.to_string())
    })
}

/// Encodes a sorted list of ordinals as the varints of their gaps: a byte or two each.
pub fn pack_ordinals(ordinals: &[u32]) -> Result<Vec<u8>, String> {
    let mut previous = 0;
    let mut gaps = Vec::with_capacity(ordinals.len());
    for &ordinal in ordinals {
        gaps.push(
            ordinal
                .checked_sub(previous)
                .ok_or("ordinals out of order")?,
        );
        previous = ordinal;
    }
    postcard::to_stdvec(&gaps).map_err(|err| err.to_string())
}

/// Decodes what [`pack_ordinals`] wrote.
pub fn unpack_ordinals(bytes: &[u8]) -> Result<Vec<u32>, String> {
    let gaps: Vec<u32> = postcard::from_bytes(bytes).map_err(|err| err.to_string())?;
    let mut ordinal = 0u32;
    gaps.into_iter()
        .map(|gap| {
            ordinal = ordinal.checked_add(gap).ok_or("ordinals overflow")?;
            Ok(ordinal)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let value = vec![("bch2_trans_begin".to_string(), 42u32); 100];
        let packed = pack(&value).expect("packs");
        assert!(packed.len() < 100, "{} bytes", packed.len());
        assert_eq!(
            unpack::<Vec<(String, u32)>>(&packed).expect("unpacks"),
            value
        );
        assert!(unpack::<Vec<(String, u32)>>(b"not zstd").is_err());
    }

    #[test]
    fn ordinals_round_trip_in_a_few_bytes() {
        let ordinals = [0, 1, 5, 300, 301, 70_000];
        let packed = pack_ordinals(&ordinals).expect("packs");
        assert!(packed.len() <= 10, "{} bytes", packed.len());
        assert_eq!(unpack_ordinals(&packed).expect("unpacks"), ordinals);
        assert!(pack_ordinals(&[3, 2]).is_err());
        assert!(
            unpack_ordinals(&[2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f])
                .is_err()
        );
    }

    #[test]
    fn symbols_decode_alone_from_packed_facts() {
        use crate::facts::{FileFacts, FileSymbols};
        let facts = crate::parse::parse_c(
            b"static int f(void) { pr_err(\"oops\"); return g(); }\nint h(int x);\n",
        );
        assert_eq!(facts.symbols.len(), 2);
        assert!(!facts.calls.is_empty() && !facts.messages.is_empty());
        // Facts as stored now (two frames) and as indexes before wrote them (one frame).
        for packed in [facts.pack().expect("packs"), pack(&facts).expect("packs")] {
            let alone: FileSymbols = unpack_head(&packed).expect("unpacks");
            assert_eq!(alone.symbols, facts.symbols);
            assert_eq!(unpack::<FileFacts>(&packed).expect("unpacks"), facts);
        }
        let two = facts.pack().expect("packs");
        let first = zstd::zstd_safe::find_frame_compressed_size(&two).expect("a frame");
        assert!(first < two.len(), "the symbols are a frame of their own");
        assert!(unpack_head::<FileSymbols>(b"not zstd").is_err());
    }
}
