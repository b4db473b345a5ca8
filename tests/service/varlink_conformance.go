// A varlink client nobody at certmap wrote: the reference Go
// implementation (Debian's golang-github-varlink-go-dev), used as a new
// user would, through its Connection. Only Call/Send/receive are used:
// the IDL parser of Debian 12's copy predates upper-case interface names
// and would reject org.certmap.Mapper.
//
//	varlink_conformance SOCKET ALICE.der EXPIRED.pem
//
// prints PASS:/FAIL: lines; exit 1 when a check failed.
package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/varlink/go/varlink"
)

var failed int

func check(name string, ok bool, detail ...interface{}) {
	if ok {
		fmt.Println("PASS: go: " + name)
		return
	}
	failed++
	fmt.Println("FAIL: go: "+name, fmt.Sprint(detail...))
}

type mapOut struct {
	Verdict    string  `json:"verdict"`
	User       *string `json:"user"`
	UID        *int    `json:"uid"`
	Reason     *string `json:"reason"`
	CertSha256 string  `json:"cert_sha256"`
}

type statsOut struct {
	Requests  int64 `json:"requests"`
	Mapped    int64 `json:"mapped"`
	Errors    int64 `json:"errors"`
	LatencyUs []struct {
		Le    int64 `json:"le"`
		Count int64 `json:"count"`
	} `json:"latency_us"`
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: varlink_conformance SOCKET ALICE.der EXPIRED.pem")
		os.Exit(2)
	}
	der, err1 := os.ReadFile(os.Args[2])
	expired, err2 := os.ReadFile(os.Args[3])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "cannot read the certificates:", err1, err2)
		os.Exit(2)
	}
	alice := base64.StdEncoding.EncodeToString(der)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := varlink.NewConnection(ctx, "unix:"+os.Args[1])
	if err != nil {
		fmt.Println("FAIL: go: connect:", err)
		os.Exit(1)
	}
	defer c.Close()

	// GetInfo sends "parameters": null.
	var vendor, product, version, url string
	var ifaces []string
	err = c.GetInfo(ctx, &vendor, &product, &version, &url, &ifaces)
	check("GetInfo", err == nil && vendor == "certmap" && product == "certmapd" && version != "",
		err, " ", vendor, " ", product)
	check("GetInfo lists both interfaces", len(ifaces) == 2 &&
		ifaces[0] == "org.varlink.service" && ifaces[1] == "org.certmap.Mapper", ifaces)

	for _, name := range ifaces {
		d, err := c.GetInterfaceDescription(ctx, name)
		check("GetInterfaceDescription "+name, err == nil &&
			strings.Contains(d, "interface "+name+"\n"), err)
	}
	_, err = c.GetInterfaceDescription(ctx, "com.example.Nothing")
	check("GetInterfaceDescription of an unknown interface fails", err != nil, err)

	var m mapOut
	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice}, &m)
	check("Map mapped", err == nil && m.Verdict == "mapped" && str(m.User) == "alice" &&
		m.UID != nil && *m.UID == 1000 && len(m.CertSha256) == 64, err, " ", m.Verdict, " ", str(m.User))

	m = mapOut{}
	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": string(expired)}, &m)
	check("Map refused (expired, PEM) is a reply", err == nil && m.Verdict == "refused" &&
		str(m.Reason) == "expired" && m.User == nil, err, " ", m.Verdict, " ", str(m.Reason))

	m = mapOut{}
	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice, "user": "bob"}, &m)
	check("Map refused (not a candidate)", err == nil && m.Verdict == "refused" &&
		str(m.Reason) == "not_candidate", err, " ", str(m.Reason))

	var st statsOut
	err = c.Call(ctx, "org.certmap.Mapper.GetStats", nil, &st)
	check("GetStats", err == nil && st.Requests >= 7 && st.Mapped >= 1 && len(st.LatencyUs) == 13,
		err, " ", st.Requests, " ", len(st.LatencyUs))

	// Errors: typed by the library from their parameters.
	var none struct{}
	err = c.Call(ctx, "org.certmap.Mapper.Frobnicate", nil, &none)
	mnf, ok := err.(*varlink.MethodNotFound)
	check("unknown method is MethodNotFound(method)", ok && mnf.Method == "org.certmap.Mapper.Frobnicate", err)

	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice, "colour": "red"}, &m)
	ip, ok := err.(*varlink.InvalidParameter)
	check("unknown parameter is InvalidParameter(parameter)", ok && ip.Parameter == "colour", err)

	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": 42}, &m)
	ip, ok = err.(*varlink.InvalidParameter)
	check("wrong parameter type is InvalidParameter(parameter)", ok && ip.Parameter == "certificate", err)

	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice, "trace": "yes"}, &m)
	ip, ok = err.(*varlink.InvalidParameter)
	check("wrong type of trace is InvalidParameter(trace)", ok && ip.Parameter == "trace", err)

	err = c.Call(ctx, "org.certmap.Mapper.Map", map[string]interface{}{}, &m)
	ip, ok = err.(*varlink.InvalidParameter)
	check("missing certificate is InvalidParameter(certificate)", ok && ip.Parameter == "certificate", err)

	vendor = ""
	err = c.GetInfo(ctx, &vendor, nil, nil, nil, nil)
	check("the connection still serves after the errors", err == nil && vendor == "certmap", err)

	// A oneway call gets no reply: the next reply read belongs to the next call.
	_, err = c.Send(ctx, "org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice, "user": "alice"}, varlink.Oneway)
	check("oneway Map sent", err == nil, err)
	_, err = c.Send(ctx, "org.certmap.Mapper.GetStats", nil, varlink.Oneway)
	check("oneway GetStats sent", err == nil, err)
	vendor = ""
	err = c.GetInfo(ctx, &vendor, nil, nil, nil, nil)
	check("after oneway calls the next reply is the next call's", err == nil && vendor == "certmap", err, " ", vendor)
	before := st.Requests
	st = statsOut{}
	err = c.Call(ctx, "org.certmap.Mapper.GetStats", nil, &st)
	check("the oneway calls were served", err == nil && st.Requests >= before+2+7, err, " ", before, " ", st.Requests)

	// Pipelining: five calls sent before any reply is read, answered in order.
	var recv [5]func(context.Context, interface{}) (uint64, error)
	calls := []struct {
		method string
		params interface{}
	}{
		{"org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice}},
		{"org.varlink.service.GetInfo", nil},
		{"org.certmap.Mapper.Map", map[string]interface{}{"certificate": alice, "user": "bob"}},
		{"org.certmap.Mapper.Nope", nil},
		{"org.certmap.Mapper.GetStats", nil},
	}
	for i, call := range calls {
		recv[i], err = c.Send(ctx, call.method, call.params, 0)
		check(fmt.Sprintf("pipelined call %d sent", i+1), err == nil, err)
	}
	if failed == 0 {
		var m1, m3 mapOut
		var info struct {
			Vendor string `json:"vendor"`
		}
		var s5 statsOut
		_, err = recv[0](ctx, &m1)
		check("pipelined 1: Map mapped", err == nil && m1.Verdict == "mapped", err)
		_, err = recv[1](ctx, &info)
		check("pipelined 2: GetInfo", err == nil && info.Vendor == "certmap", err)
		_, err = recv[2](ctx, &m3)
		check("pipelined 3: Map refused", err == nil && str(m3.Reason) == "not_candidate", err)
		_, err = recv[3](ctx, &none)
		_, ok = err.(*varlink.MethodNotFound)
		check("pipelined 4: MethodNotFound", ok, err)
		_, err = recv[4](ctx, &s5)
		check("pipelined 5: GetStats", err == nil && s5.Requests > st.Requests, err)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
