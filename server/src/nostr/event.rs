//! Signing and checking events (NIP-01): the id is the sha256 of the JSON array
//! `[0, pubkey, created_at, kind, tags, content]` written without whitespace, and the
//! signature is BIP-340 Schnorr over the id. Every event a relay sends passes [`verify`]
//! (id recomputed, then the signature) before it is used.

use k256::schnorr::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::message::Event;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the id is not the hash of the event")]
    Id,
    #[error("the public key is not a curve point")]
    PublicKey,
    #[error("malformed signature")]
    SignatureFormat,
    #[error("the signature does not match")]
    Signature,
}

/// NIP-01's id of an event with these fields. serde_json writes the array as NIP-01 asks:
/// no whitespace, `\n \" \\ \r \t \b \f` escaped, everything else as UTF-8.
pub fn id(
    pubkey: &str,
    created_at: u64,
    kind: u32,
    tags: &[Vec<String>],
    content: &str,
) -> [u8; 32] {
    let ser =
        serde_json::to_string(&(0u8, pubkey, created_at, kind, tags, content)).unwrap_or_default();
    Sha256::digest(ser.as_bytes()).into()
}

/// A signed event from `key`; `aux` is BIP-340's auxiliary randomness.
pub fn sign(
    key: &SigningKey,
    created_at: u64,
    kind: u32,
    tags: Vec<Vec<String>>,
    content: String,
    aux: &[u8; 32],
) -> Event {
    let pubkey = hex(&key.verifying_key().to_bytes());
    let id = id(&pubkey, created_at, kind, &tags, &content);
    // Fails only for a nonce of zero (probability 2^-256).
    let sig = key
        .sign_raw(&id, aux)
        .map(|s| hex(&s.to_bytes()))
        .unwrap_or_default();
    Event {
        id: hex(&id),
        pubkey,
        created_at,
        kind,
        tags,
        content,
        sig,
    }
}

/// Checks that `e.id` is the hash of `e` and `e.sig` its signature by `e.pubkey`.
pub fn verify(e: &Event) -> Result<(), VerifyError> {
    let want = id(&e.pubkey, e.created_at, e.kind, &e.tags, &e.content);
    if unhex::<32>(&e.id) != Some(want) {
        return Err(VerifyError::Id);
    }
    verify_raw(&e.pubkey, &want, &e.sig)
}

/// BIP-340 verification of `sig` (hex) over `msg` by `pubkey` (x-only, hex).
pub fn verify_raw(pubkey: &str, msg: &[u8], sig: &str) -> Result<(), VerifyError> {
    let pk = unhex::<32>(pubkey)
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or(VerifyError::PublicKey)?;
    let sig = unhex::<64>(sig)
        .and_then(|b| Signature::try_from(&b[..]).ok())
        .ok_or(VerifyError::SignatureFormat)?;
    pk.verify_raw(msg, &sig).map_err(|_| VerifyError::Signature)
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `N` bytes from `2N` hex digits (either case).
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BIP-340's test vectors (bitcoin/bips, bip-0340/test-vectors.csv, as of 2026-08):
    /// index, secret key, public key, aux_rand, message, signature, verification result.
    #[rustfmt::skip]
    const VECTORS: &[(u8, &str, &str, &str, &str, &str, bool)] = &[
        (0, "0000000000000000000000000000000000000000000000000000000000000003", "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9", "0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000000", "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0", true),
        (1, "B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "0000000000000000000000000000000000000000000000000000000000000001", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A", true),
        (2, "C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B14E5C9", "DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8", "C87AA53824B4D7AE2EB035A2B5BBBCCC080E76CDC6D1692C4B0B62D798E6D906", "7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C", "5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1BAB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7", true),
        (3, "0B432B2677937381AEF05BB02A66ECD012773062CF3FA2549E44F58ED2401710", "25D1DFF95105F5253C4022F628A996AD3A0D95FBF21D468A1B33F8C160D8F517", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3", true),
        (4, "", "D69C3509BB99E412E68B0FE8544E72837DFA30746D8BE2AA65975F29D22DC7B9", "", "4DF3C3F68FCC83B27E9D42C90431A72499F17875C81A599B566C9889B9696703", "00000000000000000000003B78CE563F89A0ED9414F5AA28AD0D96D6795F9C6376AFB1548AF603B3EB45C9F8207DEE1060CB71C04E80F593060B07D28308D7F4", true),
        (5, "", "EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E17776969E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B", false),
        (6, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "FFF97BD5755EEEA420453A14355235D382F6472F8568A18B2F057A14602975563CC27944640AC607CD107AE10923D9EF7A73C643E166BE5EBEAFA34B1AC553E2", false),
        (7, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "1FA62E331EDBC21C394792D2AB1100A7B432B013DF3F6FF4F99FCB33E0E1515F28890B3EDB6E7189B630448B515CE4F8622A954CFE545735AAEA5134FCCDB2BD", false),
        (8, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769961764B3AA9B2FFCB6EF947B6887A226E8D7C93E00C5ED0C1834FF0D0C2E6DA6", false),
        (9, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "0000000000000000000000000000000000000000000000000000000000000000123DDA8328AF9C23A94C1FEECFD123BA4FB73476F0D594DCB65C6425BD186051", false),
        (10, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "00000000000000000000000000000000000000000000000000000000000000017615FBAF5AE28864013C099742DEADB4DBA87F11AC6754F93780D5A1837CF197", false),
        (11, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "4A298DACAE57395A15D0795DDBFD1DCB564DA82B0F269BC70A74F8220429BA1D69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B", false),
        (12, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B", false),
        (13, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", false),
        (14, "", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30", "", "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89", "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E17776969E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B", false),
        (15, "0340034003400340034003400340034003400340034003400340034003400340", "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117", "0000000000000000000000000000000000000000000000000000000000000000", "", "71535DB165ECD9FBBC046E5FFAEA61186BB6AD436732FCCC25291A55895464CF6069CE26BF03466228F19A3A62DB8A649F2D560FAC652827D1AF0574E427AB63", true),
        (16, "0340034003400340034003400340034003400340034003400340034003400340", "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117", "0000000000000000000000000000000000000000000000000000000000000000", "11", "08A20A0AFEF64124649232E0693C583AB1B9934AE63B4C3511F3AE1134C6A303EA3173BFEA6683BD101FA5AA5DBC1996FE7CACFC5A577D33EC14564CEC2BACBF", true),
        (17, "0340034003400340034003400340034003400340034003400340034003400340", "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117", "0000000000000000000000000000000000000000000000000000000000000000", "0102030405060708090A0B0C0D0E0F1011", "5130F39A4059B43BC7CAC09A19ECE52B5D8699D1A71E3C52DA9AFDB6B50AC370C4A482B77BF960F8681540E25B6771ECE1E5A37FD80E5A51897C5566A97EA5A5", true),
        (18, "0340034003400340034003400340034003400340034003400340034003400340", "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117", "0000000000000000000000000000000000000000000000000000000000000000", "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999", "403B12B0D8555A344175EA7EC746566303321E5DBFA8BE6F091635163ECA79A8585ED3E3170807E7C03B720FC54C7B23897FCBA0E9D0B4A06894CFD249F22367", true),
    ];

    #[test]
    fn bip340_test_vectors_sign_and_verify() {
        assert_eq!(VECTORS.len(), 19);
        for &(i, sk, pk, aux, msg, sig, valid) in VECTORS {
            let msg: Vec<u8> = (0..msg.len())
                .step_by(2)
                .map(|j| u8::from_str_radix(&msg[j..j + 2], 16).unwrap())
                .collect();
            if !sk.is_empty() {
                let key = SigningKey::from_bytes(&unhex::<32>(sk).unwrap()).unwrap();
                assert_eq!(
                    hex(&key.verifying_key().to_bytes()),
                    pk.to_ascii_lowercase(),
                    "vector {i}: public key"
                );
                let got = key.sign_raw(&msg, &unhex::<32>(aux).unwrap()).unwrap();
                assert_eq!(
                    hex(&got.to_bytes()),
                    sig.to_ascii_lowercase(),
                    "vector {i}: signature"
                );
            }
            assert_eq!(
                verify_raw(&pk.to_ascii_lowercase(), &msg, &sig.to_ascii_lowercase()).is_ok(),
                valid,
                "vector {i}: verification"
            );
        }
    }

    /// NIP-13's example event (a real kind-1 note with proof of work): its published id and
    /// signature.
    fn nip13_example() -> Event {
        serde_json::from_value(serde_json::json!({
            "id": "000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358",
            "pubkey": "a48380f4cfcc1ad5378294fcac36439770f9c878dd880ffa94bb74ea54a6f243",
            "created_at": 1651794653,
            "kind": 1,
            "tags": [["nonce", "776797", "20"]],
            "content": "It's just me mining my own business",
            "sig": "284622fc0a3f4f1303455d5175f7ba962a3300d136085b9566801bc2e0699de0c7e31e44c81fb40ad9049173742e904713c3594a1da0fc5d2382a25c11aba977"
        }))
        .unwrap()
    }

    #[test]
    fn a_published_event_has_the_nip01_id_and_a_valid_signature() {
        let e = nip13_example();
        assert_eq!(
            hex(&id(&e.pubkey, e.created_at, e.kind, &e.tags, &e.content)),
            e.id
        );
        assert_eq!(verify(&e), Ok(()));
        let mut changed = e.clone();
        changed.content.push('!');
        assert_eq!(verify(&changed), Err(VerifyError::Id));
        let mut forged = e.clone();
        forged.sig.replace_range(0..2, "00");
        assert!(verify(&forged).is_err());
    }

    #[test]
    fn signed_events_verify_and_escape_as_nip01_says() {
        let key = SigningKey::from_bytes(&[7u8; 32]).unwrap();
        let content = "line\nquote\" back\\ tab\t é ✓ </script>".to_owned();
        let tags = vec![vec!["title".to_owned(), "a \"b\"".to_owned()]];
        let e = sign(&key, 1_700_000_000, 2003, tags, content, &[1u8; 32]);
        assert_eq!(verify(&e), Ok(()));
        let ser =
            serde_json::to_string(&(0u8, &e.pubkey, e.created_at, e.kind, &e.tags, &e.content))
                .unwrap();
        assert!(
            ser.ends_with(r#"[["title","a \"b\""]],"line\nquote\" back\\ tab\t é ✓ </script>"]"#),
            "{ser}"
        );
        let mut other_key = e.clone();
        other_key.pubkey = hex(&SigningKey::from_bytes(&[8u8; 32])
            .unwrap()
            .verifying_key()
            .to_bytes());
        assert_eq!(verify(&other_key), Err(VerifyError::Id));
    }
}
