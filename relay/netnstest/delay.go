package netnstest

import (
	"context"
	"net"
	"sync"
	"time"
)

// maxDatagram bounds one forwarded datagram.
const maxDatagram = 64 << 10

// DelayUDP forwards datagrams from listen to upstream and replies back,
// each delayed by oneWay, until ctx ends. Each client address gets its own
// upstream socket.
func DelayUDP(ctx context.Context, listen, upstream string, oneWay time.Duration) (net.Addr, error) {
	ln, err := net.ListenPacket("udp", listen)
	if err != nil {
		return nil, err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	go func() { // owned by ctx through ln
		var mu sync.Mutex
		ups := map[string]net.Conn{}
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := ln.ReadFrom(buf)
			if err != nil {
				mu.Lock()
				for _, c := range ups {
					c.Close()
				}
				mu.Unlock()
				return
			}
			data := append([]byte(nil), buf[:n]...)
			mu.Lock()
			up, ok := ups[from.String()]
			if !ok {
				up, err = net.Dial("udp", upstream)
				if err != nil {
					mu.Unlock()
					continue
				}
				ups[from.String()] = up
				go func() { // replies of this client; ends when up closes
					rbuf := make([]byte, maxDatagram)
					for {
						n, err := up.Read(rbuf)
						if err != nil {
							return
						}
						reply := append([]byte(nil), rbuf[:n]...)
						time.AfterFunc(oneWay, func() { _, _ = ln.WriteTo(reply, from) })
					}
				}()
			}
			mu.Unlock()
			time.AfterFunc(oneWay, func() { _, _ = up.Write(data) })
		}
	}()
	return ln.LocalAddr(), nil
}

// DelayTCP accepts connections on listen and pipes each to upstream, every
// chunk delayed by oneWay in both directions, until ctx ends.
func DelayTCP(ctx context.Context, listen, upstream string, oneWay time.Duration) (net.Addr, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	go func() { // owned by ctx through ln
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // one connection
				defer c.Close()
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { delayCopy(up, c, oneWay); done <- struct{}{} }()
				go func() { delayCopy(c, up, oneWay); done <- struct{}{} }()
				select {
				case <-done:
				case <-ctx.Done():
				}
			}()
		}
	}()
	return ln.Addr(), nil
}

type chunk struct {
	data []byte
	due  time.Time
}

// delayCopy copies src to dst, each chunk written oneWay after it was read.
func delayCopy(dst, src net.Conn, oneWay time.Duration) {
	q := make(chan chunk, 1024)
	go func() { // the reader; ends with src
		defer close(q)
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(oneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.due)) // the delay itself, not synchronization
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
