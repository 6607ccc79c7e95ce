//! The roles a certificate can have in the mdoc PKI.

/// What a certificate is for; each role has its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The self-signed IACA (root) certificate (also NewWithNew at a key rollover).
    Iaca,
    /// A link certificate (NewWithOld or OldWithNew): an IACA key certified by another IACA
    /// key under the same DN.
    Link,
    /// A Document Signer: signs MSOs (extendedKeyUsage 1.0.18013.5.1.2).
    DocumentSigner,
    /// The signer of Token Status Lists and Identifier Lists: issued directly by the IACA.
    ListSigner,
    /// The signer of a VICAL (extendedKeyUsage 1.0.18013.5.1.8).
    VicalSigner,
}

impl Role {
    /// The role's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Iaca => "IACA",
            Role::Link => "link certificate",
            Role::DocumentSigner => "Document Signer",
            Role::ListSigner => "list signer",
            Role::VicalSigner => "VICAL signer",
        }
    }

    /// Whether the role is a CA's (IACA or link).
    pub fn is_ca(self) -> bool {
        matches!(self, Role::Iaca | Role::Link)
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
