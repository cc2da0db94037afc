//! The TCP transport: one connection per pair, a stream of fixed-size sends (netperf's
//! TCP_STREAM), reused for every repetition. Each send starts with an 8-byte word, 1 on the
//! last send of a repetition, so the receiver knows where a repetition ends without a second
//! channel; the sender starts the next only after the ranks have met again over MPI.
//! Request/response (netperf's TCP_RR) runs over the same connection: a 1-byte request, 1 on
//! the last of a repetition, answered by a 1-byte response.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::histogram::Recorder;
use crate::buffer::AlignedBuffer;
use crate::result::net::SocketOptions;

/// How a repetition ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    After(Duration),
    Bytes(u64),
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub send_size: usize,
    pub send_buffer: Option<usize>,
    pub receive_buffer: Option<usize>,
    pub nodelay: bool,
    /// Longest wait for a connection, and for any one send or receive.
    pub timeout: Duration,
}

fn socket_for(address: &SocketAddr, settings: &Settings, receive_side: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(*address), Type::STREAM, Some(Protocol::TCP))?;
    // Buffer sizes must be set before listen/connect to count for the TCP window.
    if let Some(size) = settings.send_buffer.filter(|_| !receive_side) {
        socket.set_send_buffer_size(size)?;
    }
    if let Some(size) = settings.receive_buffer.filter(|_| receive_side) {
        socket.set_recv_buffer_size(size)?;
    }
    Ok(socket)
}

/// A receiver's listening socket on `address` (port chosen by the kernel).
pub fn listen(address: IpAddr, settings: &Settings) -> io::Result<(TcpListener, SocketAddr)> {
    let wanted = SocketAddr::new(address, 0);
    let socket = socket_for(&wanted, settings, true)?;
    socket.bind(&wanted.into())?;
    socket.listen(1)?;
    let listener: TcpListener = socket.into();
    let bound = listener.local_addr()?;
    Ok((listener, bound))
}

/// Waits up to the timeout for the sender's connection.
pub fn accept(listener: &TcpListener, settings: &Settings) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + settings.timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return prepare(stream, settings);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection within {:?}", settings.timeout),
                ));
            }
            Err(e) => return Err(e),
        }
    }
}

pub fn connect(address: SocketAddr, settings: &Settings) -> io::Result<TcpStream> {
    let socket = socket_for(&address, settings, false)?;
    socket.connect_timeout(&address.into(), settings.timeout)?;
    prepare(socket.into(), settings)
}

fn prepare(stream: TcpStream, settings: &Settings) -> io::Result<TcpStream> {
    stream.set_nodelay(settings.nodelay)?;
    stream.set_read_timeout(Some(settings.timeout))?;
    stream.set_write_timeout(Some(settings.timeout))?;
    Ok(stream)
}

/// The socket options in effect (getsockopt), as the kernel rounded them.
pub fn effective(stream: &TcpStream) -> SocketOptions {
    let socket = SockRef::from(stream);
    SocketOptions {
        send_buffer_bytes: socket.send_buffer_size().ok().map(|v| v as u64),
        receive_buffer_bytes: socket.recv_buffer_size().ok().map(|v| v as u64),
        nodelay: socket.tcp_nodelay().ok(),
        mss_bytes: socket.tcp_mss().ok().map(u64::from),
    }
}

const HEADER: usize = 8;

/// Sends until `stop`; returns the bytes sent.
pub fn send(stream: &mut TcpStream, buffer: &mut AlignedBuffer, stop: Stop) -> io::Result<u64> {
    let size = buffer.len();
    let started = Instant::now();
    let mut sent: u64 = 0;
    loop {
        let last = match stop {
            Stop::After(duration) => started.elapsed() >= duration,
            Stop::Bytes(total) => sent + size as u64 >= total,
        };
        buffer[..HEADER].copy_from_slice(&u64::from(last).to_le_bytes());
        stream.write_all(buffer).map_err(|e| timed_out(e, "sending"))?;
        sent += size as u64;
        if last {
            return Ok(sent);
        }
    }
}

/// Receives one repetition: until the send marked last. `send_size` is the sender's.
pub fn receive(stream: &mut TcpStream, buffer: &mut AlignedBuffer, send_size: usize) -> io::Result<u64> {
    let mut received: u64 = 0;
    // Where the stream is within the current send, and that send's header so far.
    let mut at: usize = 0;
    let mut header = [0u8; HEADER];
    loop {
        let n = if buffer.len() == send_size { whole_send(stream, buffer) } else { stream.read(buffer) }
            .map_err(|e| timed_out(e, "receiving"))?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the sender closed the connection mid-stream",
            ));
        }
        received += n as u64;
        let mut pos = 0;
        while pos < n {
            let take = (n - pos).min(send_size - at);
            if at < HEADER {
                let h = take.min(HEADER - at);
                header[at..at + h].copy_from_slice(&buffer[pos..pos + h]);
            }
            at += take;
            pos += take;
            if at == send_size {
                at = 0;
                if u64::from_le_bytes(header) == 1 {
                    return if pos == n {
                        Ok(received)
                    } else {
                        Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "bytes after the last send of a repetition",
                        ))
                    };
                }
            }
        }
    }
}

/// One whole send in one call (`MSG_WAITALL`): one wake-up per send instead of one per segment.
fn whole_send(stream: &mut TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buffer` is writable for its length; the descriptor is the stream's.
    let n = unsafe {
        libc::recv(stream.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len(), libc::MSG_WAITALL)
    };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

/// One repetition of request/response as the client: transactions one at a time until `stop`,
/// each round trip recorded in ns. Returns the transactions made.
pub fn request(stream: &mut TcpStream, stop: Duration, round_trips: &mut Recorder) -> io::Result<u64> {
    let started = Instant::now();
    let mut transactions: u64 = 0;
    let mut now = started;
    loop {
        let last = now.duration_since(started) >= stop;
        let mut byte = [u8::from(last)];
        stream.write_all(&byte).map_err(|e| timed_out(e, "sending a request"))?;
        stream.read_exact(&mut byte).map_err(|e| timed_out(e, "waiting for a response"))?;
        let answered = Instant::now();
        round_trips.record(answered.duration_since(now).as_nanos() as u64);
        now = answered;
        transactions += 1;
        if last {
            return Ok(transactions);
        }
    }
}

/// One repetition of request/response as the server: answers every request until the one
/// marked last. Returns the transactions served.
pub fn respond(stream: &mut TcpStream) -> io::Result<u64> {
    let mut transactions: u64 = 0;
    loop {
        let mut byte = [0u8];
        stream.read_exact(&mut byte).map_err(|e| timed_out(e, "waiting for a request"))?;
        stream.write_all(&byte).map_err(|e| timed_out(e, "sending a response"))?;
        transactions += 1;
        if byte[0] == 1 {
            return Ok(transactions);
        }
    }
}

fn timed_out(error: io::Error, doing: &str) -> io::Error {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            io::Error::new(io::ErrorKind::TimedOut, format!("{doing}: nothing moved within the timeout"))
        }
        _ => io::Error::new(error.kind(), format!("{doing}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(send_size: usize) -> Settings {
        Settings {
            send_size,
            send_buffer: Some(65536),
            receive_buffer: None,
            nodelay: true,
            timeout: Duration::from_secs(5),
        }
    }

    /// A whole repetition over loopback: sizes that do not divide the receive buffer, and a
    /// receive buffer of one send (read whole, MSG_WAITALL).
    #[test]
    fn a_repetition_ends_at_the_marked_send() {
        let cases = [
            (16384, 131072, 1_000_000u64),
            (1000, 4096, 50_000),
            (9000, 4096, 100_000),
            (65536, 65536, 1_000_000),
        ];
        for (send_size, recv_size, total) in cases {
            let s = settings(send_size);
            let (listener, address) = listen(IpAddr::from([127, 0, 0, 1]), &s).unwrap();
            // The next repetition starts only after the receiver has the last one (over MPI
            // in pvbench; a channel here).
            let (done, next) = std::sync::mpsc::channel();
            let sender = std::thread::spawn(move || {
                let mut stream = connect(address, &settings(send_size)).unwrap();
                let mut buffer = AlignedBuffer::zeroed(send_size).unwrap();
                let a = send(&mut stream, &mut buffer, Stop::Bytes(total)).unwrap();
                next.recv().unwrap();
                let b = send(&mut stream, &mut buffer, Stop::Bytes(1)).unwrap();
                (a, b)
            });
            let mut stream = accept(&listener, &s).unwrap();
            let mut buffer = AlignedBuffer::zeroed(recv_size).unwrap();
            let first = receive(&mut stream, &mut buffer, send_size).unwrap();
            done.send(()).unwrap();
            let second = receive(&mut stream, &mut buffer, send_size).unwrap();
            let (a, b) = sender.join().unwrap();
            assert_eq!((first, second), (a, b));
            assert_eq!(a, total.div_ceil(send_size as u64) * send_size as u64);
            assert_eq!(b, send_size as u64);
            let e = effective(&stream);
            assert_eq!(e.nodelay, Some(true));
            assert!(e.receive_buffer_bytes.unwrap() > 0);
        }
    }

    /// A timed repetition sends until the time is up; the sender's buffer is set on the
    /// sender's socket (the kernel doubles what it is asked for).
    #[test]
    fn a_timed_repetition_and_the_senders_buffer() {
        let s = settings(4096);
        let (listener, address) = listen(IpAddr::from([127, 0, 0, 1]), &s).unwrap();
        let sender = std::thread::spawn(move || {
            let mut stream = connect(address, &settings(4096)).unwrap();
            let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
            let sent = send(&mut stream, &mut buffer, Stop::After(Duration::from_millis(250))).unwrap();
            (sent, effective(&stream))
        });
        let mut stream = accept(&listener, &s).unwrap();
        let mut buffer = AlignedBuffer::zeroed(65536).unwrap();
        let received = receive(&mut stream, &mut buffer, 4096).unwrap();
        let (sent, options) = sender.join().unwrap();
        assert_eq!(received, sent);
        assert!(
            sent > 10 * 4096,
            "250 ms of sending moves more than a few sends, however busy the machine: {sent}"
        );
        assert_eq!(options.send_buffer_bytes, Some(2 * 65536));
    }

    /// Every request is answered, the last one ends the server's repetition, and each
    /// transaction's round trip is recorded once.
    #[test]
    fn request_response_counts_every_transaction_on_both_ends() {
        let s = settings(1);
        let (listener, address) = listen(IpAddr::from([127, 0, 0, 1]), &s).unwrap();
        let server = std::thread::spawn(move || {
            let mut stream = accept(&listener, &settings(1)).unwrap();
            (respond(&mut stream).unwrap(), respond(&mut stream).unwrap())
        });
        let mut stream = connect(address, &s).unwrap();
        let mut round_trips = Recorder::default();
        let first = request(&mut stream, Duration::from_millis(50), &mut round_trips).unwrap();
        let second = request(&mut stream, Duration::ZERO, &mut round_trips).unwrap();
        assert_eq!(server.join().unwrap(), (first, second));
        assert_eq!(second, 1, "a zero-length repetition is its one last transaction");
        assert_eq!(round_trips.histogram().percentiles(1.0).unwrap().samples, first + second);
    }

    #[test]
    fn a_closed_connection_and_a_silent_sender_are_errors() {
        let mut s = settings(1024);
        s.timeout = Duration::from_millis(200);
        let (listener, address) = listen(IpAddr::from([127, 0, 0, 1]), &s).unwrap();
        let client = connect(address, &s).unwrap();
        let mut stream = accept(&listener, &s).unwrap();
        let mut buffer = AlignedBuffer::zeroed(4096).unwrap();
        let silent = receive(&mut stream, &mut buffer, 1024).unwrap_err();
        assert_eq!(silent.kind(), io::ErrorKind::TimedOut, "{silent}");
        drop(client);
        let closed = receive(&mut stream, &mut buffer, 1024).unwrap_err();
        assert_eq!(closed.kind(), io::ErrorKind::UnexpectedEof);
        let refused = accept(&listener, &s).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::TimedOut);
    }
}
