//! The request-response stream codec of the sync protocol.
//!
//! One request and one response per stream, each framed as `length (u32 LE) ‖ message`, with
//! the message in the [`crate::wire`] encoding. The length is checked against
//! [`MAX_REQUEST_SIZE`] / [`MAX_RESPONSE_SIZE`] before a single byte of the body is read, so a
//! peer cannot make us buffer more than the limit.
//!
//! An inbound request that is over the limit or does not decode is *not* an I/O error: libp2p
//! does not report read failures of inbound requests with the peer's id, so the codec yields
//! `Err(MalformedRequest)` as the request value instead and the service bans the sender as
//! [`crate::Misbehavior::Malformed`] on receiving it. A response that is over the limit or does
//! not decode is an [`io::Error`] of kind [`io::ErrorKind::InvalidData`], which the service sees
//! as an outbound failure with the peer's id and also penalizes as `Malformed`.

use std::io;

use async_trait::async_trait;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use libp2p::StreamProtocol;

use crate::wire::{Request, Response, MAX_REQUEST_SIZE, MAX_RESPONSE_SIZE};

/// The sync protocol name of a network: `/p2share/<network>/sync/1`.
pub fn sync_protocol_name(network: &str) -> String {
    format!("/p2share/{network}/sync/1")
}

/// An inbound request frame that was over the size limit or did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedRequest(pub String);

/// What the codec reads as a request: the request, or why it is malformed.
pub type CodecRequest = Result<Request, MalformedRequest>;

/// Codec of the sync protocol (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct SyncCodec;

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads one length-prefixed frame of at most `limit` bytes: `Ok(Err(reason))` if the length is
/// over the limit (the body is not read), `Err` on I/O failure.
async fn read_frame<T>(io: &mut T, what: &str, limit: usize) -> io::Result<Result<Vec<u8>, String>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > limit {
        return Ok(Err(format!(
            "{what} frame length {len} is above the limit {limit} (at byte 0)"
        )));
    }
    let mut body = vec![0u8; len];
    io.read_exact(&mut body).await?;
    Ok(Ok(body))
}

async fn write_frame<T>(io: &mut T, bytes: &[u8]) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = u32::try_from(bytes.len())
        .map_err(|_| invalid(format!("frame of {} bytes is too long", bytes.len())))?;
    io.write_all(&len.to_le_bytes()).await?;
    io.write_all(bytes).await?;
    io.flush().await
}

#[async_trait]
impl request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = CodecRequest;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<CodecRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = match read_frame(io, "request", MAX_REQUEST_SIZE).await? {
            Ok(body) => body,
            Err(reason) => return Ok(Err(MalformedRequest(reason))),
        };
        // The wire offsets count from the body; the frame adds 4 bytes of length.
        Ok(
            Request::decode(&body)
                .map_err(|e| MalformedRequest(format!("{e} (of the frame body)"))),
        )
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = read_frame(io, "response", MAX_RESPONSE_SIZE)
            .await?
            .map_err(invalid)?;
        Response::decode(&body).map_err(|e| invalid(format!("{e} (of the frame body)")))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: CodecRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let req =
            req.map_err(|e| invalid(format!("refusing to send a malformed request: {}", e.0)))?;
        let bytes = req.encode().map_err(|e| invalid(e.to_string()))?;
        write_frame(io, &bytes).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let bytes = res.encode().map_err(|e| invalid(e.to_string()))?;
        write_frame(io, &bytes).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use libp2p::futures::executor::block_on;
    use libp2p::futures::io::Cursor;
    use libp2p::request_response::Codec;

    fn proto() -> StreamProtocol {
        StreamProtocol::new("/p2share/test/sync/1")
    }

    #[test]
    fn frames_round_trip() {
        block_on(async {
            let mut buf = Cursor::new(Vec::new());
            SyncCodec
                .write_request(&proto(), &mut buf, Ok(Request::Status))
                .await
                .unwrap();
            let bytes = buf.into_inner();
            assert_eq!(&bytes[..4], &2u32.to_le_bytes());
            let mut rd = Cursor::new(bytes);
            let req = SyncCodec.read_request(&proto(), &mut rd).await.unwrap();
            assert_eq!(req, Ok(Request::Status));
        });
    }

    #[test]
    fn an_oversized_length_is_refused_before_the_body() {
        block_on(async {
            // Only the prefix is present: the codec must refuse without waiting for the body.
            let over = (MAX_REQUEST_SIZE as u32 + 1).to_le_bytes().to_vec();
            let err = SyncCodec
                .read_request(&proto(), &mut Cursor::new(over))
                .await
                .unwrap()
                .unwrap_err();
            assert!(err.0.contains("above the limit"), "{err:?}");
            let over = (MAX_RESPONSE_SIZE as u32 + 1).to_le_bytes().to_vec();
            let err = SyncCodec
                .read_response(&proto(), &mut Cursor::new(over))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        });
    }

    #[test]
    fn garbage_bodies_are_malformed_requests() {
        block_on(async {
            let mut frame = 3u32.to_le_bytes().to_vec();
            frame.extend_from_slice(&[1, 0x77, 0]);
            let err = SyncCodec
                .read_request(&proto(), &mut Cursor::new(frame))
                .await
                .unwrap()
                .unwrap_err();
            assert!(err.0.contains("unknown tag 0x77"), "{err:?}");
            // A truncated frame is an I/O error (the stream ended), not a malformed request.
            let mut short = 10u32.to_le_bytes().to_vec();
            short.push(1);
            let err = SyncCodec
                .read_request(&proto(), &mut Cursor::new(short))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        });
    }
}
