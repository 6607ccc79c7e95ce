//! Status-list index allocation.

use super::IndexBlock;
use crate::config::INDEX_BLOCK;
use crate::engine::errors::EngineError;
use crate::engine::issuer::Issuer;

impl Issuer {
    /// Allocates `n` status-list indices in the current list, moving to the next list when it
    /// is full. Returns the list's URI and the indices.
    ///
    /// Indices are reserved from the store in blocks of [`INDEX_BLOCK`] and handed out from
    /// memory, so an issuance costs one write transaction, not two. Indices of a block not used
    /// before a restart are simply never used (an index is never handed out twice).
    pub(super) async fn allocate(&self, n: u64) -> Result<(String, Vec<u64>), EngineError> {
        let size = self.config.status.list_size;
        if n > size.min(INDEX_BLOCK) {
            return Err(EngineError::Internal(
                "batch larger than a status list or an index block".into(),
            ));
        }
        let mut cursor = self.list_cursor.lock().await;
        loop {
            if let Some(b) = cursor.as_mut() {
                if b.end - b.next >= n {
                    let out: Vec<u64> = (b.next..b.next + n).collect();
                    b.next += n;
                    return Ok((self.status_list_uri(b.list), out));
                }
            }
            // The block is used up (or too short for this batch): reserve the next one.
            let list = match cursor.as_ref() {
                Some(b) => b.list,
                None => self.highest_list().await?,
            };
            *cursor = Some(self.reserve(list, size, n).await?);
        }
    }

    /// The highest-numbered status list in use, or list 1.
    async fn highest_list(&self) -> Result<u64, EngineError> {
        let prefix = self.status_list_uri(0);
        let prefix = prefix.trim_end_matches('0');
        Ok(self
            .store
            .status_lists()
            .await?
            .iter()
            .filter_map(|(uri, _)| uri.strip_prefix(prefix)?.parse::<u64>().ok())
            .max()
            .unwrap_or(1))
    }

    /// Reserves the next block of indices, in `list` or, when it is full, the next list.
    async fn reserve(&self, mut list: u64, size: u64, n: u64) -> Result<IndexBlock, EngineError> {
        loop {
            let uri = self.status_list_uri(list);
            let got = self
                .store
                .allocate_status_indices(&uri, INDEX_BLOCK)
                .await?;
            let start = got.first().copied().unwrap_or(size);
            let end = got.last().map_or(size, |l| l + 1).min(size);
            if start < end && end - start >= n {
                return Ok(IndexBlock {
                    list,
                    next: start,
                    end,
                });
            }
            list = list
                .checked_add(1)
                .ok_or_else(|| EngineError::Internal("status list numbers exhausted".into()))?;
        }
    }
}
