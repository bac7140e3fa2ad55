package devstack

import (
	"context"
	"math"
	"net"
	"sync"
	"time"

	"github.com/atollgg/atoll/topology"
)

// Simulated distance. On one machine every region is 0 ms away, so routing
// would never differ; in development the relays' public addresses are
// fronted by forwarders that delay each packet by the distance between the
// sender's simulated home and the region. A home is a loopback address:
// 127.0.<i+1>.1 lives in the i-th region (bots bind to it), and any other
// source (a person's browser on 127.0.0.1) lives in Config.HumanRegion.
const (
	// fibreKmPerMs is how far a packet travels in a millisecond on real
	// routes (light in fibre covers ~200 km/ms; routing detours halve it).
	fibreKmPerMs = 100.0
	// sameRegionDelay is the one-way delay to the player's own region: a
	// metro network's.
	sameRegionDelay = 2 * time.Millisecond
	// maxOneWay caps a delay so the far side of the world stays playable
	// in the demo.
	maxOneWay = 90 * time.Millisecond
	// earthRadiusKm is the mean radius of the earth.
	earthRadiusKm = 6371.0
	// maxDatagram bounds one forwarded datagram (beacon probes are tiny).
	maxDatagram = 2 << 10
	// tcpChunk is the forwarder's read size; queuedChunks bounds what one
	// direction of a connection holds while delaying.
	tcpChunk, queuedChunks = 32 << 10, 1024
)

// distances maps (home region, target region) to a one-way delay.
type distances struct {
	regions []string // index i lives at 127.0.<i+1>.1
	human   int      // index of the region 127.0.0.1 and unknown sources live in
	oneWay  [][]time.Duration
}

func newDistances(w *topology.World, human string) *distances {
	d := &distances{}
	for i, r := range w.Regions {
		d.regions = append(d.regions, r.ID)
		if r.ID == human {
			d.human = i
		}
	}
	d.oneWay = make([][]time.Duration, len(w.Regions))
	for i, a := range w.Regions {
		d.oneWay[i] = make([]time.Duration, len(w.Regions))
		for j, b := range w.Regions {
			km := haversineKm(a.Location.Lat, a.Location.Lon, b.Location.Lat, b.Location.Lon)
			dl := sameRegionDelay + time.Duration(km/fibreKmPerMs*float64(time.Millisecond))
			d.oneWay[i][j] = min(dl, maxOneWay)
		}
	}
	return d
}

// homeIP is the loopback address players of region i send from.
func homeIP(i int) net.IP { return net.IPv4(127, 0, byte(i+1), 1) }

// home returns the region index a source address lives in.
func (d *distances) home(addr net.Addr) int {
	var ip net.IP
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	}
	if ip4 := ip.To4(); ip4 != nil && ip4[0] == 127 && ip4[3] == 1 && int(ip4[2]) >= 1 && int(ip4[2]) <= len(d.regions) {
		return int(ip4[2]) - 1
	}
	return d.human
}

func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(h))
}

// forwarders runs the delaying forwarders of the dev world; Close stops
// them all and waits for their goroutines.
type forwarders struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newForwarders() *forwarders {
	f := &forwarders{}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f
}

func (f *forwarders) Close() {
	f.cancel()
	f.wg.Wait()
}

// udp forwards datagrams arriving at listen to upstream and the replies
// back, each delayed by delay(sender) one way.
func (f *forwarders) udp(listen, upstream string, delay func(net.Addr) time.Duration) error {
	ln, err := net.ListenPacket("udp", listen)
	if err != nil {
		return err
	}
	f.wg.Add(2)
	go func() { defer f.wg.Done(); <-f.ctx.Done(); ln.Close() }()
	go func() { // reads until ln closes with the context
		defer f.wg.Done()
		var mu sync.Mutex // guards ups
		ups := map[string]net.Conn{}
		defer func() {
			mu.Lock()
			for _, c := range ups {
				c.Close()
			}
			mu.Unlock()
		}()
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := ln.ReadFrom(buf)
			if err != nil {
				return
			}
			data := append([]byte(nil), buf[:n]...)
			oneWay := delay(from)
			mu.Lock()
			up, ok := ups[from.String()]
			if !ok {
				if up, err = net.Dial("udp", upstream); err != nil {
					mu.Unlock()
					continue
				}
				ups[from.String()] = up
				f.wg.Add(1)
				go func() { // this sender's replies; ends when up closes
					defer f.wg.Done()
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
	return nil
}

// tcp accepts connections at listen and pipes each to upstream, every chunk
// delayed by delay(client) in both directions.
func (f *forwarders) tcp(listen, upstream string, delay func(net.Addr) time.Duration) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	f.wg.Add(2)
	go func() { defer f.wg.Done(); <-f.ctx.Done(); ln.Close() }()
	go func() { // accepts until ln closes with the context
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() { // one connection; ends when either side ends or ctx does
				defer f.wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				oneWay := delay(c.RemoteAddr())
				done := make(chan struct{}, 2)
				go func() { delayCopy(up, c, oneWay); done <- struct{}{} }()
				go func() { delayCopy(c, up, oneWay); done <- struct{}{} }()
				select {
				case <-done:
				case <-f.ctx.Done():
				}
			}()
		}
	}()
	return nil
}

type chunk struct {
	data []byte
	due  time.Time
}

// delayCopy copies src to dst, each chunk written oneWay after it was
// read; it returns when src ends or dst fails (the caller closes both).
func delayCopy(dst, src net.Conn, oneWay time.Duration) {
	q := make(chan chunk, queuedChunks)
	go func() { // the reader; ends with src
		defer close(q)
		buf := make([]byte, tcpChunk)
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
		time.Sleep(time.Until(c.due)) // the simulated distance itself
		if _, err := dst.Write(c.data); err != nil {
			src.Close()
			for range q { // let the reader finish
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
